"""`checkin patient`: register a patient and schedule a check-in from the command line."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

import click
from sqlalchemy.orm import Session

from config import Settings
from service.api.validation import (
    CHANNELS,
    LANGUAGES,
    Invalid,
    parse_instant,
    to_e164,
    valid_timezone,
)
from service.db import Clinic, Patient
from service.enqueue import schedule_and_enqueue
from service.runtime import Runtime, build_runtime
from service.usecases import Conflict
from service.usecases.importing import import_patients, read_rows
from service.usecases.patients import next_checkin_at, register_patient


@contextmanager
def _runtime() -> Iterator[Runtime]:
    runtime = build_runtime(Settings.from_env())
    try:
        yield runtime
    finally:
        runtime.close()


def _show(session: Session, patient: Patient) -> str:
    due = next_checkin_at(session, patient.id)
    return json.dumps(
        {
            "id": patient.id,
            "clinic_id": patient.clinic_id,
            "phone": patient.phone,
            "name": patient.name,
            "timezone": patient.timezone,
            "language": patient.language,
            "channel": patient.channel,
            "status": patient.status,
            "next_checkin_at": due.strftime("%Y-%m-%dT%H:%M:%SZ") if due else None,
        }
    )


@click.group("patient")
def patient_group() -> None:
    """Patient commands (the same use cases as the API)."""


@patient_group.command("add")
@click.option("--clinic", "clinic_id", required=True, type=int, help="The clinic's id.")
@click.option("--phone", required=True, help="E.164 or national format.")
@click.option("--name", default=None)
@click.option("--timezone", default=None, help="IANA zone; default the clinic's.")
@click.option("--language", type=click.Choice(LANGUAGES), default="en", show_default=True)
@click.option(
    "--channel",
    type=click.Choice(CHANNELS),
    default="sms",
    show_default=True,
    help="How check-ins reach the patient.",
)
def patient_add(
    clinic_id: int,
    phone: str,
    name: str | None,
    timezone: str | None,
    language: str,
    channel: str,
) -> None:
    """Register a patient; prints it as JSON."""
    with _runtime() as runtime, runtime.sessions() as session:
        clinic = session.get(Clinic, clinic_id)
        if clinic is None:
            raise click.BadParameter("no such clinic", param_hint="--clinic")
        try:
            e164 = to_e164(phone, clinic.country)
            zone = valid_timezone(timezone or clinic.timezone)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
        try:
            patient = register_patient(
                session,
                clinic,
                phone=e164,
                name=name,
                timezone=zone,
                language=language,
                actor="cli",
                channel=channel,
            )
        except Conflict as exc:
            raise click.ClickException(str(exc)) from None
        session.commit()
        click.echo(_show(session, patient))


@patient_group.command("checkin")
@click.argument("patient_id", type=int)
@click.option("--at", default=None, help="ISO 8601; without an offset, the patient's time.")
@click.option(
    "--channel", type=click.Choice(CHANNELS), default=None, help="Default: the patient's."
)
def patient_checkin(patient_id: int, at: str | None, channel: str | None) -> None:
    """Schedule a check-in (now by default; quiet hours apply); prints the patient."""
    with _runtime() as runtime, runtime.sessions() as session:
        patient = session.get(Patient, patient_id)
        if patient is None:
            raise click.BadParameter("no such patient", param_hint="PATIENT_ID")
        try:
            when = parse_instant(at, patient.timezone) if at else None
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--at") from None
        try:
            schedule_and_enqueue(
                runtime, session, patient, at=when, channel=channel or patient.channel, actor="cli"
            )
        except Conflict as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(_show(session, patient))


@patient_group.command("import")
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--clinic", "clinic_id", required=True, type=int, help="The clinic's id.")
def patient_import(csv_file: TextIO, clinic_id: int) -> None:
    """Import patients from a CSV file (phone,name,timezone,language[,channel]).

    Prints one line per bad row (row number as a spreadsheet shows it, field, message);
    good rows are kept, in one transaction; phones the clinic already has are skipped.
    Exits 1 when any row was bad.
    """
    with _runtime() as runtime, runtime.sessions() as session:
        clinic = session.get(Clinic, clinic_id)
        if clinic is None:
            raise click.BadParameter("no such clinic", param_hint="--clinic")
        try:
            rows = read_rows(csv_file.read())
        except Invalid as exc:
            raise click.ClickException(
                "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
            ) from None
        with click.progressbar(length=len(rows), label="importing", file=sys.stderr) as bar:
            report = import_patients(session, clinic, rows, actor="cli", progress=bar.update)
        session.commit()
    for error in report.errors:
        click.echo(f"row {error.row}: {error.field}: {error.message}")
    click.echo(
        f"created {report.created}, already there {report.existing}, "
        f"bad rows {len({e.row for e in report.errors})}"
    )
    if report.errors:
        sys.exit(1)
