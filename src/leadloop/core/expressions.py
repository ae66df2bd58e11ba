"""Query terms that SQLite's planner can match against a partial index.

SQLite uses a partial index only when the query's WHERE contains each term of the index's
condition, and it compares an `IN` list's constants as written: `status IN (?, ?, ?)` with bound
values, or the same constants in another order, never reaches an index whose condition reads
`status IN ('assigned', 'contacted', 'quoted')`, so a sweep or a rep's list reads the whole
table instead; the same for `state = ?` against `state = 'offered'`. `indexed(Model, "name")`
gives a query the index's own condition with its values written into the SQL, as the index's
DDL has them; PostgreSQL matches it as well as the bound form.
tests/core/test_partial_indexes.py runs each caller's statements with `INDEXED BY` on SQLite,
which fails when the index cannot be used.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.db import models
from django.db.models import BooleanField, Expression, Q


def indexed(model: type[models.Model], name: str) -> Q:
    """The condition of `model`'s partial index `name`, for a query that should read through
    it: the same terms, with the values written in as the index's DDL has them."""
    for index in model._meta.indexes:
        if index.name == name and index.condition is not None:
            return literal(index.condition)
    raise LookupError(f"{model.__name__} has no partial index {name!r}")


def literal(condition: Q) -> Q:
    """`condition` with its values written into the SQL (see Inlined)."""
    return Q(Inlined(condition))


_SAFE = re.compile(r"[\w .@+:-]*")


class Inlined(Expression):
    """A condition compiled with its values written into the SQL (code constants only: words
    and whole numbers), so that it reads exactly as a partial index's condition does."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, condition: Q) -> None:
        super().__init__()
        self.condition = condition
        self.where: Any = None

    def get_source_expressions(self) -> list[Any]:
        return [] if self.where is None else [self.where]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        if exprs:
            (self.where,) = exprs

    def resolve_expression(
        self,
        query: Any = None,
        allow_joins: bool = True,
        reuse: Any = None,
        summarize: bool = False,
        for_save: bool = False,
    ) -> Inlined:
        resolved = self.copy()
        # Resolved once against its own query; a subquery's second pass (against the outer
        # query, for OuterRef) goes to the resolved terms, as Django's own WHERE does.
        source = self.condition if self.where is None else self.where
        resolved.where = source.resolve_expression(query, allow_joins, reuse, summarize, for_save)
        return resolved

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        sql, params = compiler.compile(self.where)
        parts = sql.split("%s")
        if len(parts) != len(params) + 1 or any("%" in part for part in parts):
            raise ValueError(f"Cannot write the values into {sql!r}")
        out = [parts[0]]
        for value, part in zip(params, parts[1:], strict=True):
            out += [_literal(value), part]
        return "".join(out), ()


def _literal(value: Any) -> str:
    if isinstance(value, str) and _SAFE.fullmatch(value):
        return f"'{value!s}'"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"Not a literal-safe value: {value!r}")
