"""The OpenAPI document validates and lists every API route the app serves."""

from __future__ import annotations

import re
from typing import Any

from openapi_spec_validator import validate


def test_openapi_document_is_valid(client: Any) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    validate(response.get_json())


def test_every_api_route_is_documented(app: Any, client: Any) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    documented = {
        (path, method.upper())
        for path, operations in document["paths"].items()
        for method in operations
    }
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            served.add((path, method))
    assert served == documented


def test_answers_match_their_documented_schemas(
    client: Any, clinic: Any, make_patient: Any
) -> None:
    from service.api import outputs

    def fields(model: Any) -> set[str]:
        return {f.alias or name for name, f in model.model_fields.items()}

    patient = make_patient()
    shown = client.get(f"/api/v1/patients/{patient['id']}", headers=clinic.headers).get_json()
    outputs.Patient.model_validate(shown)
    assert set(shown) == fields(outputs.Patient)
    made = client.post(f"/api/v1/patients/{patient['id']}/checkins", headers=clinic.headers)
    outputs.ScheduledCheckin.model_validate(made.get_json())
    assert set(made.get_json()) | {"schedule"} == fields(outputs.ScheduledCheckin)
    page = client.get("/api/v1/patients", headers=clinic.headers).get_json()
    outputs.PatientPage.model_validate(page)


def test_request_schemas_are_the_validating_classes(client: Any) -> None:
    from service.api.schemas import NewPatient

    document = client.get("/api/v1/openapi.json").get_json()
    documented = document["components"]["schemas"]["NewPatient"]
    assert set(documented["properties"]) == set(NewPatient.model_fields)
    assert documented["additionalProperties"] is False
