"""The log mask: a phone number that slips into a log line keeps only its last two digits."""

from __future__ import annotations

import pytest

from service.logs import mask


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("to +12025550123 ok", "to ***23 ok"),
        ("+44 20 7946 0958", "***58"),
        ("call 202-555-0147 now", "call ***47 now"),
        ("in 0:00:00.011160s", "in 0:00:00.011160s"),
        ("job 34c3f7ba-cb46-4b1f-a30c-a55584ba0", "job 34c3f7ba-cb46-4b1f-a30c-a55584ba0"),
        ("message=12 patient=5", "message=12 patient=5"),
        ("sid SM00000000000000000000000000000001", "sid SM00000000000000000000000000000001"),
    ],
)
def test_mask(line: str, expected: str) -> None:
    assert mask(line) == expected
