"""Migrations: upgrade from empty works, and the models and the migrations agree."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from service.db import Base


def test_upgrade_from_empty_creates_every_table(database_url: str) -> None:
    engine = create_engine(database_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    assert "alembic_version" in tables


def test_models_and_migrations_agree(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        differences: list[Any] = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_upgrade_twice_is_harmless(tmp_path: Any) -> None:
    from service.db import upgrade

    url = f"sqlite:///{tmp_path / 'again.db'}"
    upgrade(url)
    upgrade(url)


def test_existing_patients_get_the_sms_channel(tmp_path: Any) -> None:
    from sqlalchemy import text

    from service.db import upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0001")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO clinics (name, on_call_phone, timezone, country, api_key_hash,"
                " created_at) VALUES ('C', '+12025550100', 'UTC', 'US', 'h', '2026-01-01')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO patients (clinic_id, phone, timezone, language, status,"
                " same_streak, better_streak, menu_repeated, created_at, updated_at)"
                " VALUES (1, '+12025550123', 'UTC', 'en', 'active', 0, 0, 0,"
                " '2026-01-01', '2026-01-01')"
            )
        )
    upgrade(url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT channel FROM patients")).scalar() == "sms"
    engine.dispose()


def test_duplicate_open_emergencies_are_merged_into_the_oldest(unmigrated_url: str) -> None:
    """0008: one open emergency per patient; the others fold into it, none is dropped."""
    from sqlalchemy import select
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm import Session

    from service.db import AuditEvent, Clinic, Escalation, Message, Patient, upgrade

    url = unmigrated_url
    upgrade(url, "0007")
    engine = create_engine(url)

    def emergency(patient: Patient, status: str = "open", reason: str = "emergency") -> Escalation:
        return Escalation(
            clinic_id=patient.clinic_id, patient_id=patient.id, reason=reason, status=status
        )

    def message(escalation: Escalation, direction: str) -> Message:
        return Message(
            clinic_id=escalation.clinic_id,
            patient_id=escalation.patient_id,
            escalation_id=escalation.id,
            direction=direction,
            purpose="reply" if direction == "inbound" else "alert",
            to_number="+15005550006",
            from_number="+12025550123",
            status="received" if direction == "inbound" else "sent",
        )

    with Session(engine) as db:
        clinic = Clinic(name="C", on_call_phone="+12025550100", timezone="UTC", api_key_hash="h")
        db.add(clinic)
        db.flush()
        patients = [
            Patient(clinic_id=clinic.id, phone=f"+1202555012{n}", timezone="UTC") for n in range(2)
        ]
        db.add_all(patients)
        db.flush()
        first, second, third, worse, other = (
            emergency(patients[0]),
            emergency(patients[0]),
            emergency(patients[0], "unacknowledged"),
            emergency(patients[0], reason="worsening"),
            emergency(patients[1]),
        )
        db.add_all([first, second, third, worse, other])
        db.flush()
        words = [message(e, "inbound") for e in (first, second, third)]
        page = message(second, "outbound")
        db.add_all([*words, page])
        db.commit()
        ids = [e.id for e in (first, second, third, worse, other)]
        word_ids, page_id = [m.id for m in words], page.id
        clinic_id, patient_id = clinic.id, patients[0].id

    upgrade(url)
    with Session(engine) as db:
        found = {e.id: e for e in db.scalars(select(Escalation))}
        assert [found[i].status for i in ids] == [
            "open",
            "acknowledged",
            "acknowledged",
            "open",
            "open",
        ]
        for merged in ids[1:3]:
            assert found[merged].acknowledged_by == f"merged into escalation:{ids[0]}"
            assert found[merged].acknowledged_via == "merge"
            assert found[merged].acknowledged_at is not None
        assert {db.get(Message, i).escalation_id for i in word_ids} == {ids[0]}  # type: ignore[union-attr]
        assert db.get(Message, page_id).escalation_id == ids[1]  # type: ignore[union-attr]
        audit = db.scalars(select(AuditEvent).where(AuditEvent.action == "escalation.merge")).all()
        assert sorted(a.subject for a in audit) == [f"escalation:{i}" for i in ids[1:3]]
        assert all(a.detail == {"into": ids[0]} for a in audit)
        # From now on the database refuses a second open emergency for the patient.
        db.add(Escalation(clinic_id=clinic_id, patient_id=patient_id, reason="emergency"))
        with pytest.raises(IntegrityError):
            db.commit()
    engine.dispose()
