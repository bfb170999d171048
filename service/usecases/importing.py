"""CSV import of a clinic's roster: good rows are kept, bad rows are named, nothing twice.

The file is read whole (header `phone,name,timezone,language`, `channel` optional), every
row is validated with the API's own `NewPatient` schema, and the good rows are created in
the caller's one transaction, so a failure part-way leaves nothing behind. A phone the clinic
already has (from an earlier run, or earlier in the same file) is counted as `existing`, not
created again and not an error: running the same file twice adds nobody twice.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first patient row 2.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.api.schemas import NewPatient, errors_of
from service.api.validation import FieldError, Invalid
from service.db import Clinic, Patient
from service.usecases import Conflict
from service.usecases.patients import register_patient

REQUIRED = ("phone", "name", "timezone", "language")
OPTIONAL = ("channel",)
MAX_ROWS = 10_000
EXTRA = "\x00extra"


@dataclass(frozen=True)
class RowError:
    """One bad field of one row."""

    row: int
    field: str
    message: str


@dataclass
class ImportReport:
    """What an import did."""

    created: int = 0
    existing: int = 0
    errors: list[RowError] = field(default_factory=list)


def read_rows(text: str) -> list[dict[str, str]]:
    """The data rows of a CSV text, or Invalid naming what is wrong with the file itself."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [name for name in REQUIRED if name not in header]
    unknown = [name for name in header if name not in REQUIRED + OPTIONAL]
    problems = [FieldError("header", f"missing column {name}") for name in missing]
    problems += [FieldError("header", f"unknown column {name!r}") for name in unknown]
    if problems:
        raise Invalid(problems)
    reader.fieldnames = header
    rows: list[dict[str, str]] = []
    try:
        for raw in reader:
            row = {k: (v or "").strip() for k, v in raw.items() if k is not None}
            if raw.get(None):
                row[EXTRA] = "yes"  # cells beyond the header: reported, not guessed at
            rows.append(row)
    except csv.Error as exc:
        raise Invalid([FieldError("body", f"not a CSV file: {exc}")]) from None
    if len(rows) > MAX_ROWS:
        raise Invalid([FieldError("body", f"at most {MAX_ROWS} rows per file")])
    return rows


def import_patients(
    session: Session,
    clinic: Clinic,
    rows: list[dict[str, str]],
    *,
    actor: str,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Create the rows' patients in the caller's transaction; the caller commits."""
    report = ImportReport()
    seen = set(session.scalars(select(Patient.phone).where(Patient.clinic_id == clinic.id)))
    for index, row in enumerate(rows):
        _import_row(session, clinic, row, index + 2, seen, report, actor)
        if progress is not None:
            progress(1)
    return report


def _import_row(
    session: Session,
    clinic: Clinic,
    row: dict[str, str],
    number: int,
    seen: set[str],
    report: ImportReport,
    actor: str,
) -> None:
    """Validate and create one row, or record why not."""
    # An empty cell is an absent value: the clinic's time zone, English, SMS.
    given = {k: v for k, v in row.items() if v}
    if given.pop(EXTRA, None):
        report.errors.append(RowError(number, "row", "more cells than the header has"))
        return
    try:
        form = NewPatient.model_validate(given, context={"country": clinic.country})
    except ValidationError as exc:
        report.errors += [RowError(number, e.field, e.message) for e in errors_of(exc)]
        return
    if form.phone in seen:
        report.existing += 1
        return
    seen.add(form.phone)
    try:
        register_patient(
            session,
            clinic,
            phone=form.phone,
            name=form.name,
            timezone=form.timezone or clinic.timezone,
            language=form.language,
            channel=form.channel,
            actor=actor,
        )
    except Conflict:  # created meanwhile by another request
        report.existing += 1
    else:
        report.created += 1
