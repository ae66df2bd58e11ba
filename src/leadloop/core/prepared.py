"""Hot-path statements compiled once per process instead of once per call.

Django's ORM compiles every query anew: on the synchronous intake that compiling cost more than the
database did (about 0.3 ms for each of a dozen small statements). These helpers build the SQL of a
few fixed statements once and then only adapt the values, the way the ORM itself adapts them
(`pre_save`, `get_db_prep_save`, and the backend's converters on the way back), so a row written or
read here is the same row the ORM would write or read. Only for fixed, hot statements; everything
else uses the ORM.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections
from django.db.models import Model
from django.db.models import fields as django_fields

_COMPILED: dict[tuple[str, str, str], Any] = {}

_NONE = type(None)
_INTEGERS = (
    django_fields.AutoField,
    django_fields.BigAutoField,
    django_fields.SmallAutoField,
    django_fields.IntegerField,
    django_fields.BigIntegerField,
    django_fields.SmallIntegerField,
    django_fields.PositiveIntegerField,
    django_fields.PositiveBigIntegerField,
    django_fields.PositiveSmallIntegerField,
)
# Values that `get_db_prep_save` hands back unchanged, by the exact class of their field (a
# subclass may adapt differently, so it takes the ORM's way). Adapting the ~60 values of a lead
# the ORM's way cost about 0.3 ms; most are plain strings, numbers and empty dates.
_UNCHANGED: dict[type[Any], frozenset[type[Any]]] = {
    **{cls: frozenset({int, _NONE}) for cls in _INTEGERS},
    **{
        cls: frozenset({str, _NONE})
        for cls in (
            django_fields.CharField,
            django_fields.TextField,
            django_fields.EmailField,
            django_fields.SlugField,
        )
    },
    django_fields.BooleanField: frozenset({bool, _NONE}),
    django_fields.FloatField: frozenset({float, _NONE}),
    django_fields.DateTimeField: frozenset({_NONE}),
    django_fields.DateField: frozenset({_NONE}),
}


def _unchanged(field: Any, connection: Any) -> frozenset[type[Any]]:
    # PostgreSQL's backend wraps integers in psycopg's Int2/Int4/Int8; SQLite's passes them on.
    ints_as_they_are = type(connection.ops.adapt_integerfield_value(1, "IntegerField")) is int
    if field.is_relation:
        # A foreign key passes an id on to its target field; "" may become NULL, so only ints.
        integer_target = type(field.target_field) in _INTEGERS and ints_as_they_are
        return frozenset({int, _NONE}) if integer_target else frozenset()
    if type(field) in _INTEGERS and not ints_as_they_are:
        return frozenset()
    return _UNCHANGED.get(type(field), frozenset())


def _plan(
    model_fields: Sequence[Any], connection: Any
) -> list[tuple[Any, str, bool, frozenset[type[Any]]]]:
    """Per field: its attname, whether its `pre_save` does more than read the attribute, and the
    value types the backend stores as they are."""
    return [
        (
            f,
            f.attname,
            type(f).pre_save is not django_fields.Field.pre_save,
            _unchanged(f, connection),
        )
        for f in model_fields
    ]


def _params(
    plan: list[tuple[Any, str, bool, frozenset[type[Any]]]],
    instance: Model,
    connection: Any,
    *,
    add: bool,
) -> list[Any]:
    """The values of `instance` adapted as `field.get_db_prep_save(field.pre_save(...))` would."""
    params = []
    for field, attname, custom_pre_save, unchanged in plan:
        value = field.pre_save(instance, add) if custom_pre_save else getattr(instance, attname)
        params.append(
            value if type(value) in unchanged else field.get_db_prep_save(value, connection)
        )
    return params


def _compiled(kind: str, model: type[Model], build: Callable[[], Any], using: str) -> Any:
    vendor = connections[using].vendor
    key = (kind, model._meta.label, f"{using}:{vendor}")
    compiled = _COMPILED.get(key)
    if compiled is None:
        compiled = _COMPILED[key] = build()
    return compiled


def insert(instance: Model, *, using: str = "default") -> None:
    """INSERT one new instance and set its primary key, like `instance.save()` for a new row.

    No signals are sent (nothing in Leadloop listens to these models' save signals).
    """
    model = type(instance)
    connection = connections[using]

    def build() -> tuple[str, list[Any]]:
        meta: Any = model._meta
        fields = [f for f in meta.concrete_fields if not f.primary_key]
        quote = connection.ops.quote_name
        sql = (
            f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {quote(meta.pk.column)}"
        )
        return sql, _plan(fields, connection)

    sql, plan = _compiled("insert", model, build, using)
    params = _params(plan, instance, connection, add=True)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        instance.pk = cursor.fetchone()[0]
    instance._state.adding = False
    instance._state.db = using


def insert_many(instances: Sequence[Model], *, using: str = "default") -> None:
    """INSERT new instances of one model in one statement, like `bulk_create` without reading
    the primary keys back (compiled once for each number of rows)."""
    if not instances:
        return
    model = type(instances[0])
    connection = connections[using]
    count = len(instances)

    def build() -> tuple[str, list[Any]]:
        meta: Any = model._meta
        fields = [f for f in meta.concrete_fields if not f.primary_key]
        quote = connection.ops.quote_name
        row = f"({', '.join(['%s'] * len(fields))})"
        sql = (
            f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
            f"VALUES {', '.join([row] * count)}"
        )
        return sql, _plan(fields, connection)

    sql, plan = _compiled(f"insert_many:{count}", model, build, using)
    params = [value for one in instances for value in _params(plan, one, connection, add=True)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    for one in instances:
        one._state.adding = False
        one._state.db = using


def update(
    instance: Model,
    fields: Sequence[str],
    *,
    where: dict[str, Any] | None = None,
    using: str = "default",
) -> int:
    """UPDATE `fields` of an existing row from the instance; with `where`, only if those columns
    still hold those values (a compare-and-set). Returns the number of rows changed (0 or 1)."""
    model = type(instance)
    connection = connections[using]
    conditions = tuple(sorted(where or {}))

    def build() -> tuple[str, list[Any], list[Any]]:
        meta: Any = model._meta
        quote = connection.ops.quote_name
        targets = [meta.get_field(name) for name in fields]
        checks = [meta.get_field(name) for name in conditions]
        sql = (
            f"UPDATE {quote(meta.db_table)} SET "  # noqa: S608
            + ", ".join(f"{quote(f.column)} = %s" for f in targets)
            + f" WHERE {quote(meta.pk.column)} = %s"
            + "".join(f" AND {quote(f.column)} = %s" for f in checks)
        )
        # An update reads the attributes as they are (no `pre_save`), as before.
        return sql, [(f, f.attname, False, _unchanged(f, connection)) for f in targets], checks

    sql, plan, checks = _compiled(
        f"update:{','.join(fields)}:{','.join(conditions)}", model, build, using
    )
    params = _params(plan, instance, connection, add=False)
    params.append(instance.pk)
    params += [f.get_db_prep_save(where[f.name], connection) for f in checks]  # type: ignore[index]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def _select(model: type[Model], column: str, connection: Any, tail: str) -> Any:
    meta: Any = model._meta
    fields = list(meta.concrete_fields)
    quote = connection.ops.quote_name
    sql = (
        f"SELECT {', '.join(quote(f.column) for f in fields)} FROM {quote(meta.db_table)} "  # noqa: S608
        f"WHERE {quote(meta.get_field(column).column)} = %s{tail}"
    )
    converters = []
    for f in fields:
        col = f.get_col(meta.db_table)
        converters.append(
            (col, connection.ops.get_db_converters(col) + f.get_db_converters(connection))
        )
    return sql, [f.attname for f in fields], converters


def get_by(model: type[Model], column: str, value: Any, *, using: str = "default") -> Model | None:
    """The first row whose `column` equals `value`, as a model instance (or None)."""
    connection = connections[using]
    sql, attnames, converters = _compiled(
        f"get:{column}", model, lambda: _select(model, column, connection, " LIMIT 1"), using
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [value])
        row = cursor.fetchone()
    if row is None:
        return None
    return model.from_db(using, attnames, _convert(row, converters, connection))


def all_by(model: type[Model], column: str, value: Any, *, using: str = "default") -> list[Model]:
    """Every row whose `column` equals `value`, as model instances, in primary key order."""
    connection = connections[using]
    meta: Any = model._meta
    order = f" ORDER BY {connection.ops.quote_name(meta.pk.column)}"
    sql, attnames, converters = _compiled(
        f"all:{column}", model, lambda: _select(model, column, connection, order), using
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [value])
        rows = cursor.fetchall()
    return [model.from_db(using, attnames, _convert(row, converters, connection)) for row in rows]


def _convert(
    row: Sequence[Any],
    converters: list[tuple[Any, list[Callable[..., Any]]]],
    connection: Any,
) -> list[Any]:
    values = list(row)
    for i, (expression, functions) in enumerate(converters):
        for convert in functions:
            values[i] = convert(values[i], expression, connection)
    return values
