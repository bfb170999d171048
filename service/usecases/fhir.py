"""FHIR R4 export: one patient's record as a `Bundle` an EHR can import.

The Bundle (type `collection`) holds:

- the `Patient` (phone, name, preferred language);
- the published `Questionnaire` of a check-in ("How is your weakness today?"), and one
  `QuestionnaireResponse` per answered check-in, answering it with the coded category and
  the patient's own words;
- one `Observation` (category `survey`) per triaged reply: the category as a coded value
  and the triage reasons as a note;
- one `Flag` per escalation still waiting for the clinic (`open` or `unacknowledged`).

Only R4 elements that R4B did not change are used, so the same JSON validates against both.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import CheckIn, Escalation, Message, Patient

CATEGORY_SYSTEM = "https://checkin.example.org/fhir/CodeSystem/weakness-trend"
ESCALATION_SYSTEM = "https://checkin.example.org/fhir/CodeSystem/escalation-reason"
QUESTIONNAIRE_URL = "https://checkin.example.org/fhir/Questionnaire/weakness-checkin"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
CATEGORIES = {
    "better": "Weakness better",
    "same": "Weakness the same",
    "worse": "Weakness worse",
    "emergency": "Possible emergency (red flag)",
    "unclear": "Reply not understood",
}
ANSWERED = ("better", "same", "worse", "emergency")
WAITING = ("open", "unacknowledged")


def _when(value: datetime) -> str:
    """FHIR dateTime in UTC."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _coding(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def questionnaire() -> dict[str, Any]:
    """The published Questionnaire every check-in asks."""
    return {
        "resourceType": "Questionnaire",
        "id": "weakness-checkin",
        "url": QUESTIONNAIRE_URL,
        "version": "1",
        "name": "WeaknessCheckin",
        "title": "Muscle weakness check-in",
        "status": "active",
        "subjectType": ["Patient"],
        "item": [
            {
                "linkId": "trend",
                "text": "How is your weakness today? 1 better, 2 same, 3 worse",
                "type": "choice",
                "required": True,
                "answerOption": [
                    {"valueCoding": {"system": CATEGORY_SYSTEM, "code": c, "display": d}}
                    for c, d in CATEGORIES.items()
                    if c in ANSWERED
                ],
            },
            {"linkId": "words", "text": "The patient's reply, in their words", "type": "string"},
        ],
    }


def patient_resource(patient: Patient) -> dict[str, Any]:
    """The FHIR Patient."""
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(patient.id),
        "active": patient.status not in ("archived",),
        "telecom": [{"system": "phone", "value": patient.phone, "use": "mobile"}],
        "communication": [
            {
                "language": {"coding": [{"system": "urn:ietf:bcp:47", "code": patient.language}]},
                "preferred": True,
            }
        ],
    }
    if patient.name:
        resource["name"] = [{"text": patient.name}]
    return resource


def observation(patient: Patient, reply: Message) -> dict[str, Any]:
    """One triaged reply as an Observation."""
    category = reply.category or "unclear"
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": f"reply-{reply.id}",
        "status": "final",
        "category": [_coding(OBSERVATION_CATEGORY, "survey", "Survey")],
        "code": _coding(CATEGORY_SYSTEM, "trend", "Muscle weakness since the last check-in"),
        "subject": {"reference": f"Patient/{patient.id}"},
        "effectiveDateTime": _when(reply.created_at),
        "valueCodeableConcept": _coding(CATEGORY_SYSTEM, category, CATEGORIES[category]),
    }
    if reply.reasons:
        resource["note"] = [{"text": "Triage reasons: " + "; ".join(reply.reasons)}]
    return resource


def questionnaire_response(patient: Patient, checkin: CheckIn, reply: Message) -> dict[str, Any]:
    """An answered check-in."""
    category = reply.category or "unclear"
    return {
        "resourceType": "QuestionnaireResponse",
        "id": f"checkin-{checkin.id}",
        "questionnaire": QUESTIONNAIRE_URL,
        "status": "completed",
        "subject": {"reference": f"Patient/{patient.id}"},
        "authored": _when(reply.created_at),
        "item": [
            {
                "linkId": "trend",
                "answer": [
                    {
                        "valueCoding": {
                            "system": CATEGORY_SYSTEM,
                            "code": category,
                            "display": CATEGORIES[category],
                        }
                    }
                ],
            },
            {"linkId": "words", "answer": [{"valueString": reply.body or "(no text)"}]},
        ],
    }


def flag(patient: Patient, escalation: Escalation) -> dict[str, Any]:
    """An escalation still waiting for the clinic."""
    return {
        "resourceType": "Flag",
        "id": f"escalation-{escalation.id}",
        "status": "active",
        "category": [_coding(FLAG_CATEGORY, "clinical", "Clinical")],
        "code": _coding(ESCALATION_SYSTEM, escalation.reason, f"Escalation: {escalation.reason}"),
        "subject": {"reference": f"Patient/{patient.id}"},
        "period": {"start": _when(escalation.created_at)},
    }


def answered_checkins(
    checkins: Sequence[CheckIn], messages: Sequence[Message]
) -> list[tuple[CheckIn, Message]]:
    """Each sent check-in with the first answering reply before the next check-in went out."""
    by_message = {c.message_id: c for c in checkins if c.message_id is not None}
    pairs: list[tuple[CheckIn, Message]] = []
    waiting: CheckIn | None = None
    for message in messages:
        if message.direction == "outbound" and message.id in by_message:
            waiting = by_message[message.id]
        elif message.direction == "inbound" and waiting and message.category in ANSWERED:
            pairs.append((waiting, message))
            waiting = None
    return pairs


def patient_bundle(
    session: Session, patient: Patient, *, base_url: str, now: datetime
) -> dict[str, Any]:
    """The patient's FHIR R4 Bundle."""
    messages = session.scalars(
        select(Message).where(Message.patient_id == patient.id).order_by(Message.id)
    ).all()
    checkins = session.scalars(select(CheckIn).where(CheckIn.patient_id == patient.id)).all()
    escalations = session.scalars(
        select(Escalation)
        .where(Escalation.patient_id == patient.id, Escalation.status.in_(WAITING))
        .order_by(Escalation.id)
    ).all()
    resources = [patient_resource(patient), questionnaire()]
    resources += [
        observation(patient, m) for m in messages if m.direction == "inbound" and m.category
    ]
    resources += [
        questionnaire_response(patient, c, m) for c, m in answered_checkins(checkins, messages)
    ]
    resources += [flag(patient, e) for e in escalations]
    root = base_url.rstrip("/") + "/fhir"
    return {
        "resourceType": "Bundle",
        "id": f"patient-{patient.id}-{now.strftime('%Y%m%d%H%M%S')}",
        "type": "collection",
        "timestamp": _when(now),
        "entry": [
            {"fullUrl": f"{root}/{r['resourceType']}/{r['id']}", "resource": r} for r in resources
        ],
    }
