"""Every answer the policy gives has a spoken version for calls, in each language."""

from __future__ import annotations

import pytest

from service.core.policy import ANSWER_KEYS, ANSWER_STRANGER
from service.core.texts import LANGUAGES, keys, text

SPOKEN = [key for key in ANSWER_KEYS if key != ANSWER_STRANGER]  # strangers get no Gather
# Words that only make sense in a text message.
WRITTEN = {"en": ("Reply", "Text us", "write to you"), "es": ("Responda", "escribir", "Escríb")}
VALUES = {"clinic": "Riverside", "emergency": "911", "emergency_line": "Call 911 now."}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("key", SPOKEN)
def test_each_answer_has_a_spoken_version(language: str, key: str) -> None:
    assert f"voice.{key}" in keys(language)
    spoken = text(f"voice.{key}", language, **VALUES)
    assert not any(word in spoken for word in WRITTEN[language]), spoken


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_voice_texts_are_in_both_languages(language: str) -> None:
    voice = {key for key in keys("en") if key.startswith("voice.")}
    assert voice <= keys(language)
