"""Every staff alert fits in two SMS segments, in English and Spanish, for the longest ids,
times and dashboard links, and carries no phone number or message body."""

from __future__ import annotations

import pytest

from service.core.texts import text

# GSM 03.38 basic set (one character each): outside it, a text becomes UCS-2 (67/segment).
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
VALUES = {
    "patient": 9_999_999,
    "initials": "A.B.C.",
    "time": "23:59 CEST",
    "emergency": "911",
    "escalation": 9_999_999,
    "link": "https://neurology-checkin.example-clinic.org/dashboard/patients/9999999",
}


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("alert.sms", None),
        ("alert.final", None),
        ("alert.notice", "notice.worsening"),
        ("alert.notice", "notice.persisting"),
        ("alert.notice", "notice.unreachable"),
        ("ack.done", None),
        ("ack.none", None),
        ("ack.unknown", None),
    ],
)
def test_staff_texts_fit_two_gsm7_segments(language: str, key: str, reason: str | None) -> None:
    values = dict(VALUES)
    if reason:
        values["reason"] = text(reason, language)
    body = text(key, language, **values)
    assert set(body) <= GSM7, sorted(set(body) - GSM7)
    assert len(body) <= 2 * 153
