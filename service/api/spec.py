"""The OpenAPI 3.1 document, generated from the app's routes and the pydantic schemas.

Each API view carries its schemas with `@documented(...)`; the document walks the app's URL
map, so every route the app serves is listed, even one that forgot the decorator (it is then
described from its docstring alone). Request schemas are the very classes that validate
requests (`service/api/schemas.py`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue, models_json_schema
from pydantic_core import core_schema

from service.api import outputs

F = TypeVar("F", bound=Callable[..., Any])

ERRORS: dict[int, tuple[str, type[BaseModel]]] = {
    401: ("Missing or invalid API key", outputs.Error),
    403: ("Not an administrator key", outputs.Error),
    404: ("Not found (or another clinic's)", outputs.Error),
    409: ("Conflicts with the current state", outputs.Error),
    415: ("Wrong content type", outputs.Error),
    422: ("Invalid input; every bad field is named", outputs.ValidationErrors),
}


@dataclass(frozen=True)
class Operation:
    """What the document says about one view."""

    response: type[BaseModel] | None = None
    status: int = 200
    body: type[BaseModel] | None = None
    body_type: str = "application/json"
    body_required: bool = True
    response_type: str = "application/json"
    query: type[BaseModel] | None = None
    errors: tuple[int, ...] = (401,)
    admin: bool = False
    public: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class _Generator(GenerateJsonSchema):
    """Pydantic's JSON Schema, without `default: null` on fields that refuse null.

    Such a field is optional and an explicit null is an error (the default is decided by the
    service, e.g. the clinic's time zone), which the field's description says.
    """

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        """Drop a null default; keep every other default."""
        if "default" in schema and schema["default"] is None:
            return self.generate_inner(schema["schema"])
        return super().default_schema(schema)


def documented(**details: Any) -> Callable[[F], F]:
    """Attach an `Operation` to a view function."""

    def mark(view: F) -> F:
        view.__openapi__ = Operation(**details)  # type: ignore[attr-defined]
        return view

    return mark


def _camel(endpoint: str) -> str:
    """`api.show_patient` -> `showPatient`."""
    head, *rest = endpoint.rsplit(".", 1)[-1].split("_")
    return head + "".join(part.title() for part in rest)


def _models(app: Flask) -> list[type[BaseModel]]:
    """Every model the documented views name, plus the error bodies."""
    found: list[type[BaseModel]] = [outputs.Error, outputs.ValidationErrors]
    for view in app.view_functions.values():
        op: Operation | None = getattr(view, "__openapi__", None)
        if op is None:
            continue
        for model in (op.response, op.body):
            if model is not None and model not in found:
                found.append(model)
    return found


def _json(ref: str, description: str, media: str = "application/json") -> dict[str, Any]:
    return {"description": description, "content": {media: {"schema": {"$ref": ref}}}}


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """A query model's fields as OpenAPI parameters."""
    schema = model.model_json_schema(schema_generator=_Generator)
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": {k: v for k, v in prop.items() if k not in ("title", "description")},
            **({"description": prop["description"]} if "description" in prop else {}),
        }
        for name, prop in schema["properties"].items()
    ]


def _operation(
    endpoint: str, view: Callable[..., Any], params: list[str], refs: dict[str, str]
) -> dict[str, Any]:
    """One OpenAPI operation object."""
    op: Operation = getattr(view, "__openapi__", None) or Operation(errors=(401, 404))
    doc = (view.__doc__ or endpoint).strip().splitlines()[0].rstrip(".")
    described: dict[str, Any] = {"summary": doc, "operationId": _camel(endpoint)}
    parameters: list[dict[str, Any]] = [
        {"name": p, "in": "path", "required": True, "schema": {"type": "integer"}} for p in params
    ]
    if op.query is not None:
        parameters += _query_parameters(op.query)
    if parameters:
        described["parameters"] = parameters
    if op.body is not None:
        described["requestBody"] = {
            "required": op.body_required,
            "content": {op.body_type: {"schema": {"$ref": refs[op.body.__name__]}}},
        }
    elif op.body_type != "application/json":
        described["requestBody"] = {
            "required": True,
            "content": {op.body_type: {"schema": {"type": "string"}}},
        }
    responses: dict[str, Any] = {}
    if op.response is not None:
        responses[str(op.status)] = _json(refs[op.response.__name__], doc, op.response_type)
    else:
        responses[str(op.status)] = {"description": doc}
    # The admin API answers 404 everywhere while ADMIN_API_KEY is unset.
    errors = op.errors + ((404,) if op.admin and 404 not in op.errors else ())
    for code in errors:
        text, model = ERRORS[code]
        responses[str(code)] = _json(refs[model.__name__], text)
    described["responses"] = responses
    if op.public:
        described["security"] = []
    elif op.admin:
        described["security"] = [{"adminKey": []}]
    described.update(op.extra)
    return described


def openapi_document(app: Flask) -> dict[str, Any]:
    """Build the OpenAPI 3.1 document of every `/api/` route the app serves."""
    models = _models(app)
    # Requests are documented as they validate, responses as they serialise.
    keyed, top = models_json_schema(
        [(m, "validation") for m in models],
        ref_template="#/components/schemas/{model}",
        schema_generator=_Generator,
    )
    refs = {m.__name__: keyed[(m, "validation")]["$ref"] for m in models}
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        params = re.findall(r"<(?:\w+:)?(\w+)>", rule.rule)
        view = app.view_functions[rule.endpoint]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(
                rule.endpoint, view, params, refs
            )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Check-in clinic API",
            "version": "1.0.0",
            "description": "Register patients, schedule check-ins, read replies and "
            "escalations. Generated from the schemas that validate requests.",
        },
        "servers": [{"url": "/"}],
        "security": [{"apiKey": []}],
        "components": {
            "securitySchemes": {
                "apiKey": {"type": "http", "scheme": "bearer", "description": "A clinic's key"},
                "adminKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "ADMIN_API_KEY, for /api/v1/admin/...",
                },
            },
            "schemas": top.get("$defs", {}),
        },
        "paths": paths,
    }
