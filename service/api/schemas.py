"""Request schemas of the clinic API (pydantic v2): they validate input and document it.

The OpenAPI document (`service/api/spec.py`) is generated from these same classes, so the
document and the validation cannot drift apart. `parse()` turns pydantic's errors into the
API's own 422 shape, naming every bad field with a short message.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from service.api.validation import FieldError, Invalid, parse_instant, to_e164, valid_timezone
from service.core.names import valid_clinic_name
from service.core.recurrence import MAX_COUNT, parse_at_local, parse_every

Language = Literal["en", "es"]
PatientChannel = Literal["sms", "voice", "whatsapp"]
CheckinChannel = Literal["sms", "voice", "whatsapp"]
PatientStatus = Literal["active", "paused", "opted_out", "resolved", "archived"]
EscalationStatus = Literal["open", "acknowledged", "unacknowledged"]

Timezone = Annotated[
    str,
    Field(max_length=64, description="IANA time zone", examples=["America/Chicago"]),
    AfterValidator(valid_timezone),
]
Name = Annotated[str, Field(max_length=200)]

# The default of a field that may be left out but not set to null (see `_message`).
ABSENT: Any = None


class Schema(BaseModel):
    """Strict about unknown fields, strips strings; every request schema derives from it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _phone(value: str, info: ValidationInfo) -> str:
    """A phone in E.164 or national format, read in the clinic's country (from the context)."""
    country = (info.context or {}).get("country", "US")
    return to_e164(value, country)


Phone = Annotated[
    str,
    Field(
        min_length=1,
        max_length=40,
        description="E.164, or national format read in the clinic's country",
        examples=["+12025550123"],
    ),
    AfterValidator(_phone),
]


class NewPatient(Schema):
    """`POST /api/v1/patients`."""

    phone: Phone
    name: Name | None = None
    # Absent: the clinic's time zone. An explicit null is an error, not the default.
    timezone: Timezone = Field(default=ABSENT, description="IANA time zone; default: the clinic's")
    language: Language = "en"
    channel: PatientChannel = Field(
        default="sms", description="How check-ins and follow-ups reach the patient"
    )


class PatientChanges(Schema):
    """`PATCH /api/v1/patients/{id}`: any of these; `name` may be null to clear it."""

    name: Name | None = None
    timezone: Timezone = Field(default=ABSENT)
    language: Language = Field(default=ABSENT)
    channel: PatientChannel = Field(default=ABSENT)


class NewCheckin(Schema):
    """`POST /api/v1/patients/{id}/checkins`: one check-in, or a recurring schedule."""

    at: datetime | None = Field(
        default=None,
        description="ISO 8601; without an offset, the patient's local time; default now",
    )
    channel: CheckinChannel = Field(default=ABSENT, description="Default: the patient's channel")

    every: str | None = Field(
        default=None,
        description='Recurring: the step, such as "1d", "12h" or "2w" (1h to 90d)',
        examples=["1d"],
    )
    at_local: str | None = Field(
        default=None,
        description="Recurring: the patient's local time of each check-in, HH:MM",
        examples=["10:00"],
    )
    until: datetime | None = Field(
        default=None,
        description="Recurring: the last possible check-in (a date alone: that whole day)",
    )
    count: int | None = Field(
        default=None, ge=1, le=MAX_COUNT, strict=True, description="Recurring: how many"
    )

    @field_validator("every")
    @classmethod
    def _every(cls, value: str | None) -> str | None:
        """A step such as 1d."""
        if value is not None:
            parse_every(value)
        return value

    @field_validator("at_local")
    @classmethod
    def _at_local(cls, value: str | None) -> str | None:
        """A wall-clock time such as 10:00."""
        if value is not None:
            parse_at_local(value)
        return value

    @field_validator("until", mode="before")
    @classmethod
    def _until(cls, value: Any, info: ValidationInfo) -> Any:
        """Like `at`; a date alone means the end of that local day."""
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValueError("must be a string")
        zone = (info.context or {}).get("zone", "UTC")
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            return parse_instant(value.strip() + "T23:59:59", zone)
        return parse_instant(value.strip(), zone)

    @model_validator(mode="after")
    def _recurring_needs_every(self) -> NewCheckin:
        """`at_local`, `until` and `count` describe a recurring schedule: `every` is needed."""
        if self.every is None:
            named = [n for n in ("at_local", "until", "count") if getattr(self, n) is not None]
            if named:
                raise PydanticCustomError(
                    "needs_every",
                    "only for a recurring schedule: give every too",
                    {"fields": ",".join(named)},
                )
        return self

    @field_validator("at", mode="before")
    @classmethod
    def _instant(cls, value: Any, info: ValidationInfo) -> Any:
        """Read a time without an offset in the patient's zone (given in the context)."""
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValueError("must be a string")
        return parse_instant(value.strip(), (info.context or {}).get("zone", "UTC"))


def _optional_phone(value: str | None, info: ValidationInfo) -> str | None:
    return None if value is None else _phone(value, info)


ContentSid = Annotated[
    str,
    Field(
        pattern=r"^HX[0-9a-fA-F]{32}$",
        description="An approved WhatsApp template's Content SID",
        examples=["HX" + "0" * 32],
    ),
]


# A clinic's name starts every SMS: at most 30 characters (service.core.names).
ClinicName = Annotated[str, AfterValidator(valid_clinic_name)]


class NewClinic(Schema):
    """`POST /api/v1/admin/clinics`."""

    name: ClinicName
    on_call_phone: Phone
    phone: Annotated[str | None, AfterValidator(_optional_phone)] = Field(
        default=None, description="The clinic's own Twilio number; default TWILIO_FROM_NUMBER"
    )
    timezone: Timezone = "America/New_York"
    backup_phones: list[Phone] | None = Field(
        default=None, max_length=10, description="The chain after the on-call phone, in order"
    )


class ClinicChanges(Schema):
    """`PATCH /api/v1/admin/clinics/{id}`: any of these (`phone` null: the shared number)."""

    name: ClinicName = Field(default=ABSENT)
    on_call_phone: Phone = Field(default=ABSENT)
    backup_phones: list[Phone] | None = Field(
        default=None, max_length=10, description="The chain after the on-call phone, in order"
    )
    phone: Annotated[str | None, AfterValidator(_optional_phone)] = None
    timezone: Timezone = Field(default=ABSENT)
    whatsapp_templates: dict[Language, ContentSid] | None = Field(
        default=None, description="Template per language, used outside the 24-hour window"
    )


class PatientQuery(Schema):
    """Query of `GET /api/v1/patients`."""

    status: PatientStatus | None = None
    q: str | None = Field(
        default=None, max_length=100, description="Part of the name or of the phone"
    )
    escalation: Literal["open"] | None = Field(
        default=None, description="open: only patients with an open escalation"
    )
    open_escalation: bool | None = Field(
        default=None, description="true: only patients with an open or unacknowledged one"
    )
    needs_review: bool | None = Field(
        default=None, description="true: only patients with a reply flagged for review"
    )
    cursor: str | None = Field(
        default=None, max_length=40, description="`next_cursor` of the previous page"
    )
    limit: int = Field(default=50, ge=1, le=200)


class EscalationQuery(Schema):
    """Query of `GET /api/v1/escalations`."""

    status: EscalationStatus | None = None


M = TypeVar("M", bound=BaseModel)


def _message(error: ErrorDetails) -> str:
    """The API's short message for one pydantic error."""
    kind, ctx = error["type"], error.get("ctx", {})
    if kind == "missing":
        return "is required"
    if error.get("input", "") is None:
        return "must not be null"
    if kind == "extra_forbidden":
        return "is not a known field"
    if kind == "string_type":
        return "must be a string"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"must be at most {ctx['max_length']} characters"
    if kind == "literal_error":
        expected = str(ctx["expected"]).replace("'", "").replace(" or ", ", ")
        return f"must be one of {expected}"
    if kind in ("bool_parsing", "bool_type"):
        return "must be true or false"
    if kind in ("int_parsing", "int_type"):
        return "must be an integer"
    if kind in ("greater_than_equal", "less_than_equal"):
        return f"must be between 1 and {MAX_COUNT}" if "count" in error["loc"] else error["msg"]
    if kind == "string_pattern_mismatch":
        return "is not in the expected format"
    if kind == "dict_type":
        return "must be an object"
    if kind == "value_error":
        return str(ctx["error"])
    return str(error["msg"])


def errors_of(exc: ValidationError) -> list[FieldError]:
    """Every bad field of a pydantic error, named the way the API names them."""
    found: list[FieldError] = []
    for error in exc.errors(include_url=False):
        if error["type"] == "needs_every":  # one error naming each field that needs it
            found += [FieldError(n, str(error["msg"])) for n in error["ctx"]["fields"].split(",")]
            continue
        name = ".".join(str(part) for part in error["loc"]) or "body"
        found.append(FieldError(name, _message(error)))
    return found


def parse(model: type[M], data: Any, **context: Any) -> M:
    """Validate `data` against `model`, or raise Invalid naming every bad field."""
    errors: list[FieldError] = []
    if not isinstance(data, dict):
        errors.append(FieldError("body", "expected a JSON object"))
        data = {}
    try:
        parsed = model.model_validate(data, context=context)
    except ValidationError as exc:
        raise Invalid(errors + errors_of(exc)) from None
    if errors:
        raise Invalid(errors)
    return parsed


def parse_query(model: type[M], args: Any) -> M:
    """Validate a query string (the last value of each name) against `model`."""
    return parse(model, {key: args.get(key) for key in args})
