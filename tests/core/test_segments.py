"""SMS segment budgets: the counter itself, then every SMS template in both languages."""

from __future__ import annotations

import json
import string
from importlib.resources import files

import pytest

from config.settings import PUBLIC_BASE_URL_MAX_LENGTH
from service.core.names import CLINIC_NAME_MAX_LENGTH, valid_clinic_name
from service.core.segments import count_segments, fold_to_gsm7, non_gsm7
from service.core.texts import LANGUAGES, is_spoken, text


@pytest.mark.parametrize(
    ("body", "encoding", "units", "segments"),
    [
        ("", "GSM-7", 0, 1),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        # é ñ ü ¿ ¡ are GSM-7: Spanish can stay in it.
        ("¿Qué tal? ¡Señor Müller!" + "a" * 136, "GSM-7", 160, 1),
        # Extension table: each of these costs two septets.
        ("€" * 80, "GSM-7", 160, 1),
        ("€" * 81, "GSM-7", 162, 2),
        ("[]{}^~|\\" + "a" * 145, "GSM-7", 161, 2),
        # One á makes the whole text UCS-2.
        ("á" + "a" * 69, "UCS-2", 70, 1),
        ("á" + "a" * 70, "UCS-2", 71, 2),
        ("á" + "a" * 133, "UCS-2", 134, 2),
        ("á" + "a" * 134, "UCS-2", 135, 3),
        # Beyond the BMP: two UTF-16 code units.
        ("🙂" * 35, "UCS-2", 70, 1),
        ("🙂" * 36, "UCS-2", 72, 2),
        ("ç", "UCS-2", 1, 1),  # GSM-7 has Ç but not ç
    ],
)
def test_count_segments(body: str, encoding: str, units: int, segments: int) -> None:
    counted = count_segments(body)
    assert (counted.encoding, counted.units, counted.segments) == (encoding, units, segments)


@pytest.mark.parametrize(
    ("name", "folded"),
    [
        ("Clínica San José", "Clinica San José"),
        ("ÁÍÓÚ Niño Ünïon", "AIOU Niño Ünion"),
        ("Dr. [Smith] {Neuro} €", "Dr. (Smith) (Neuro) E"),
        ("Clínica 🙂", "Clinica ?"),
        ("ç", "c"),
    ],
)
def test_fold_to_gsm7_keeps_one_septet_per_character(name: str, folded: str) -> None:
    out = fold_to_gsm7(name)
    assert out == folded
    assert count_segments(out).encoding == "GSM-7"
    assert count_segments(out).units == len(out)


def test_non_gsm7_names_the_culprits() -> None:
    assert non_gsm7("Cómo está, ¿señor?") == ["ó", "á"]


@pytest.mark.parametrize(
    ("raw", "error"),
    [("W" * 30, None), ("  Riverside   Neurology ", None), ("", "empty"), ("W" * 31, "30")],
)
def test_clinic_names_are_limited(raw: str, error: str | None) -> None:
    if error is None:
        assert len(valid_clinic_name(raw)) <= CLINIC_NAME_MAX_LENGTH
    else:
        with pytest.raises(ValueError, match=error):
            valid_clinic_name(raw)


# The worst case of every placeholder: the longest clinic name allowed, made of characters
# that are GSM-7 but not basic ones or not GSM-7 at all (they are folded to one septet each),
# and the longest ids, emergency number and initials the service produces.
WORST = {
    "clinic": "Clínica [Neuro] San José-Ñandú",
    "emergency": "+" + "9" * 15,
    "patient": "9" * 10,
    "escalation": "9" * 10,
    "initials": "Á.É.Ó.",
    "time": "23:59 CHADT",  # the clinic's local time and zone abbreviation
    "link": "https://" + "x" * (PUBLIC_BASE_URL_MAX_LENGTH - 8) + "/dashboard/patients/9999999999",
}
BUDGETS = {"checkin": 2, "answer": 2, "alert": 2, "ack": 2}


def _fragment(key: str) -> bool:
    """Texts put inside other texts (the emergency line, an alert's reason), not sent alone."""
    return key == "emergency_line" or key.startswith("notice.")


def _catalogue(language: str) -> dict[str, str]:
    raw = files("service.core.texts").joinpath(f"{language}.json").read_text(encoding="utf-8")
    loaded: dict[str, str] = json.loads(raw)
    return loaded


def _sms_templates() -> list[tuple[str, str]]:
    return [
        (language, key)
        for language in LANGUAGES
        for key in sorted(_catalogue(language))
        if not is_spoken(key) and not _fragment(key)
    ]


def _render(language: str, key: str) -> str:
    fields = {f for _, f, _, _ in string.Formatter().parse(_catalogue(language)[key]) if f}
    unknown = fields - set(WORST) - {"emergency_line", "reason"}
    assert not unknown, f"add a worst case for {sorted(unknown)} to WORST"
    values: dict[str, str] = dict(WORST)
    values["emergency_line"] = text("emergency_line", language, **WORST)
    if "reason" in fields:  # the longest of the reasons an alert notice gives
        reasons = [k for k in _catalogue(language) if k.startswith("notice.")]
        values["reason"] = max((text(k, language) for k in reasons), key=len)
    return text(key, language, **values)


def test_the_worst_case_clinic_name_is_the_longest_allowed() -> None:
    assert len(WORST["clinic"]) == CLINIC_NAME_MAX_LENGTH == len(valid_clinic_name(WORST["clinic"]))


@pytest.mark.parametrize(("language", "key"), _sms_templates())
def test_every_sms_template_fits_its_segment_budget(language: str, key: str) -> None:
    prefix = key.split(".")[0]
    assert prefix in BUDGETS, f"{key}: give its kind of text a budget in BUDGETS"
    body = _render(language, key)
    counted = count_segments(body)
    assert counted.segments <= BUDGETS[prefix], (
        f"{language} {key}: {counted.segments} segments ({counted.encoding}, {counted.units} "
        f"units; not GSM-7: {''.join(non_gsm7(body))!r})"
    )


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("key", ["checkin.sms", "checkin.got_help", "checkin.reminder"])
def test_every_checkin_carries_the_emergency_line(language: str, key: str) -> None:
    assert text("emergency_line", language, **WORST) in _render(language, key)


@pytest.mark.parametrize("language", LANGUAGES)
def test_spoken_texts_keep_the_clinic_name_as_written(language: str) -> None:
    spoken = text("voice.checkin", language, clinic="Clínica Ñandú", emergency="911")
    assert "Clínica Ñandú" in spoken
    assert "Clinica Ñandu:" in text(
        "checkin.sms",
        language,
        clinic="Clínica Ñandú",
        **{k: v for k, v in WORST.items() if k != "clinic"},
        emergency_line="",
    )
