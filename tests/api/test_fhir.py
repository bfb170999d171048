"""FHIR R4 export: the Bundle validates with fhir.resources (R4B models, see README) and holds
the Patient, an Observation per triaged reply, a QuestionnaireResponse per answered check-in
and a Flag per open escalation."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner
from fhir.resources.R4B.bundle import Bundle

from service.cli import cli

PHONE = "+12025550123"


def converse(client: Any, clinic: Any, make_patient: Any, run_jobs: Any, text_in: Any) -> Any:
    patient = make_patient(PHONE, name="Ana Diaz", language="es")
    client.post(f"/api/v1/patients/{patient['id']}/checkins", headers=clinic.headers)
    run_jobs()
    assert text_in("3 peor, no puedo subir escaleras").status_code == 200
    assert text_in("banana").status_code == 200
    return patient


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_the_bundle_is_valid_fhir_with_every_part(
    client: Any, clinic: Any, make_patient: Any, run_jobs: Any, text_in: Any
) -> None:
    patient = converse(client, clinic, make_patient, run_jobs, text_in)
    response = client.get(f"/api/v1/patients/{patient['id']}/fhir", headers=clinic.headers)
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    bundle = response.get_json()
    Bundle.model_validate(bundle)  # every entry is parsed by its own resource class too
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    (person,) = resources(bundle, "Patient")
    assert person["telecom"][0]["value"] == PHONE and person["name"] == [{"text": "Ana Diaz"}]
    observations = resources(bundle, "Observation")
    assert [o["valueCodeableConcept"]["coding"][0]["code"] for o in observations] == [
        "worse",
        "unclear",
    ]
    assert observations[0]["note"][0]["text"].startswith("Triage reasons: ")
    assert all(o["subject"] == {"reference": f"Patient/{patient['id']}"} for o in observations)
    (questionnaire,) = resources(bundle, "Questionnaire")
    (answer,) = resources(bundle, "QuestionnaireResponse")  # one check-in, answered once
    assert answer["questionnaire"] == questionnaire["url"]
    assert answer["item"][0]["answer"][0]["valueCoding"]["code"] == "worse"
    (flag,) = resources(bundle, "Flag")
    assert flag["code"]["coding"][0]["code"] == "worsening" and flag["status"] == "active"


def test_an_acknowledged_escalation_is_no_flag(
    client: Any, clinic: Any, make_patient: Any, run_jobs: Any, text_in: Any
) -> None:
    patient = converse(client, clinic, make_patient, run_jobs, text_in)
    queue = client.get("/api/v1/escalations", headers=clinic.headers).get_json()["items"]
    client.post(f"/api/v1/escalations/{queue[0]['id']}/acknowledge", headers=clinic.headers)
    bundle = client.get(f"/api/v1/patients/{patient['id']}/fhir", headers=clinic.headers)
    assert resources(bundle.get_json(), "Flag") == []


def test_a_new_patient_is_a_bundle_with_the_patient_only(
    client: Any, clinic: Any, make_patient: Any, make_clinic: Any
) -> None:
    patient = make_patient(PHONE)
    bundle = client.get(f"/api/v1/patients/{patient['id']}/fhir", headers=clinic.headers)
    Bundle.model_validate(bundle.get_json())
    kinds = [e["resource"]["resourceType"] for e in bundle.get_json()["entry"]]
    assert kinds == ["Patient", "Questionnaire"]
    other = make_clinic(name="Other")
    assert (
        client.get(f"/api/v1/patients/{patient['id']}/fhir", headers=other.headers).status_code
        == 404
    )


def test_export_writes_one_bundle_per_patient(
    client: Any, clinic: Any, make_patient: Any, settings: Any, monkeypatch: Any, tmp_path: Any
) -> None:
    first, second = make_patient("+12025550161"), make_patient("+12025550162")
    monkeypatch.setenv("CHECKIN_INSTANCE_PATH", str(settings.instance_path))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    out = tmp_path / "export"
    done = CliRunner().invoke(
        cli, ["export", "fhir", "--clinic", str(clinic.id), "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    assert done.stdout.strip() == f"wrote 2 bundles to {out}"
    files = sorted(p.name for p in out.iterdir())
    assert files == [f"patient-{first['id']}.json", f"patient-{second['id']}.json"]
    for path in out.iterdir():
        Bundle.model_validate(json.loads(path.read_text()))
