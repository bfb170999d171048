"""`checkin export fhir`: every patient of a clinic as one FHIR R4 Bundle file each."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from sqlalchemy import select

from config import Settings
from service.db import Clinic, Patient, utcnow
from service.runtime import build_runtime
from service.usecases.fhir import patient_bundle


@click.group("export")
def export_group() -> None:
    """Export records for other systems."""


@export_group.command("fhir")
@click.option("--clinic", "clinic_id", required=True, type=int, help="The clinic's id.")
@click.option(
    "--out",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("fhir-export"),
    show_default=True,
    help="Folder for the files (created if missing).",
)
def export_fhir(clinic_id: int, folder: Path) -> None:
    """Write one FHIR R4 Bundle per patient: FOLDER/patient-ID.json."""
    runtime = build_runtime(Settings.from_env())
    try:
        with runtime.sessions() as session:
            clinic = session.get(Clinic, clinic_id)
            if clinic is None:
                raise click.BadParameter("no such clinic", param_hint="--clinic")
            ids = session.scalars(
                select(Patient.id).where(Patient.clinic_id == clinic.id).order_by(Patient.id)
            ).all()
            folder.mkdir(parents=True, exist_ok=True)
            base = runtime.settings.public_base_url
            with click.progressbar(ids, label="exporting", file=sys.stderr) as bar:
                for patient_id in bar:
                    patient = session.get(Patient, patient_id)
                    assert patient is not None
                    bundle = patient_bundle(session, patient, base_url=base, now=utcnow())
                    path = folder / f"patient-{patient_id}.json"
                    path.write_text(json.dumps(bundle, ensure_ascii=False, indent=1))
                    session.expunge_all()  # a large clinic need not sit in memory
    finally:
        runtime.close()
    click.echo(f"wrote {len(ids)} bundles to {folder}")
