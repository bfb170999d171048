"""Ids in URLs: bounded to PostgreSQL's INTEGER, so an id out of range is simply not a route."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter, Map

# The largest value of a PostgreSQL INTEGER (SQLite's limit is larger; one rule for both).
MAX_ID = 2**31 - 1


def up_to(limit: int) -> str:
    """A regular expression for the decimal numbers 0..`limit`, without leading zeros."""
    digits = str(limit)
    if len(digits) == 1:
        return f"[0-{digits}]"
    # Every shorter number, then those as long as `limit`: its first digits, one smaller digit
    # and then any digits, and `limit` itself.
    parts = ["0", f"[1-9][0-9]{{0,{len(digits) - 2}}}"]
    for at, digit in enumerate(digits):
        low = 1 if at == 0 else 0
        if int(digit) > low:
            rest = len(digits) - at - 1
            tail = f"[0-9]{{{rest}}}" if rest else ""
            parts.append(f"{digits[:at]}[{low}-{int(digit) - 1}]{tail}")
    parts.append(digits)
    return "(?:" + "|".join(parts) + ")"


class BoundedInt(IntegerConverter):
    """`<int:...>` limited to 0..2^31-1: anything else is not a route (404), never a 500.

    The bound is in the pattern, not only in `to_python`: a value the converter refused
    after matching would make werkzeug answer 405 for a path that another method serves.
    """

    regex = up_to(MAX_ID)

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def document_id_bounds(document: dict[str, Any]) -> dict[str, Any]:
    """State the id range in the OpenAPI document's integer path parameters."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                schema = parameter.get("schema", {})
                if parameter.get("in") == "path" and schema.get("type") == "integer":
                    schema.setdefault("minimum", 0)
                    schema.setdefault("maximum", MAX_ID)
    return document
