"""Tests of the built-in plugins; QBO samples as records for the database-free mapper tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.contracts import QboRecord
from core.qbo.transport import loads
from costbridge_testing.shared import samples_dir


def sample_data(name: str) -> tuple[str, dict[str, Any]]:
    """The entity name and object of a sample, freshly parsed (Decimal-exact), safe to change.

    A response sample is an envelope `{"<Entity>": {...}, "time": ...}`; a request sample is the
    bare object, named by the entity before the first dot of its file name.
    """
    body = loads((samples_dir() / name).read_bytes())
    entities = [key for key, value in body.items() if key != "time" and isinstance(value, Mapping)]
    if len(entities) == 1 and entities[0][:1].isupper():
        return entities[0], body[entities[0]]
    return name.split(".", 1)[0], body


def sample_record(name: str, *, entity: str | None = None, **changes: Any) -> QboRecord:
    """A sample as the engine hands it to a mapper, with top-level fields changed.

    Args:
        name: The file in `../shared/qbo/samples`.
        entity: The entity name, for a bare request sample (`TimeActivity`).
        changes: Fields to set; `None` removes the field, as QBO leaves it out.
    """
    found, data = sample_data(name)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return QboRecord(entity or found, data)
