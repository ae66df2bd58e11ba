"""OpenAPI operation ids are a published contract: generated clients name their methods by them."""

from pathlib import Path

from leadloop.api import api

PUBLISHED = Path(__file__).with_name("openapi_operation_ids.txt")


def _operations() -> list[str]:
    schema = api.get_openapi_schema()
    return sorted(
        f"{method.upper()} {path} {operation['operationId']}"
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    )


def test_every_published_operation_keeps_its_id_wherever_its_code_moved():
    published = PUBLISHED.read_text().split("\n")
    current = set(_operations())

    changed = [line for line in published if line and line not in current]

    # A new route adds its line to openapi_operation_ids.txt; a published line never changes.
    assert changed == []


def test_operation_ids_are_unique():
    ids = [line.rsplit(" ", 1)[1] for line in _operations()]

    assert len(ids) == len(set(ids))
