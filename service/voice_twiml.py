"""TwiML of the voice conversation, built with twilio's VoiceResponse (never by hand).

Every document speaks in the patient's language (``en-US`` or ``es-US``, for the voice and
for speech recognition) and ends either by listening (``<Gather>``, followed by a
``<Redirect>`` that Twilio follows when nobody answered) or by hanging up.
"""

from __future__ import annotations

from dataclasses import dataclass

from twilio.twiml.voice_response import VoiceResponse

SPEECH_LANGUAGE = {"en": "en-US", "es": "es-US"}
# Words the recogniser should expect: the menu in each language, digits included.
HINTS = {
    "en": "better, same, worse, one, two, three, stop, help",
    "es": "mejor, igual, peor, uno, dos, tres",
}
# Seconds Twilio waits for the first key or word.
LISTEN_SECONDS = 8


def speech_language(language: str) -> str:
    """Twilio's voice and speech language for one of ours."""
    return SPEECH_LANGUAGE.get(language, "en-US")


@dataclass(frozen=True)
class Listen:
    """Where the answer to a question goes, and where silence goes."""

    action: str
    on_silence: str


def ask(question: str, listen: Listen, language: str) -> str:
    """Say the question inside a keypad-and-speech ``<Gather>``; silence goes on_silence."""
    lang = speech_language(language)
    response = VoiceResponse()
    # input must be one space-separated string; a Python list renders wrongly.
    gather = response.gather(
        input="dtmf speech",
        num_digits=1,
        action=listen.action,
        method="POST",
        timeout=LISTEN_SECONDS,
        speech_timeout="auto",
        language=lang,
        hints=HINTS.get(language, HINTS["en"]),
    )
    gather.say(question, language=lang)
    response.redirect(listen.on_silence, method="POST")
    return str(response)


def say(text: str, language: str = "en") -> str:
    """Speak ``text`` and hang up."""
    response = VoiceResponse()
    response.say(text, language=speech_language(language))
    response.hangup()
    return str(response)


def emergency(answer: str, language: str, *, press_zero: str | None, connect: str | None) -> str:
    """The call-the-emergency-number answer; then, when there is a clinic to dial, press 0."""
    lang = speech_language(language)
    response = VoiceResponse()
    response.say(answer, language=lang)
    if press_zero is not None and connect is not None:
        gather = response.gather(
            input="dtmf", num_digits=1, action=connect, method="POST", timeout=5
        )
        gather.say(press_zero, language=lang)
    response.say(answer, language=lang)
    response.hangup()
    return str(response)


def stranger(
    english: str,
    spanish: str,
    spanish_prompt: str,
    goodbye: str,
    *,
    choose: str | None,
    press_zero: str | None,
) -> str:
    """An unknown caller: the emergency line in English and Spanish, then press 2 or 0."""
    response = VoiceResponse()
    response.say(english, language="en-US")
    response.say(spanish, language="es-US")
    if choose is not None:
        gather = response.gather(
            input="dtmf", num_digits=1, action=choose, method="POST", timeout=5
        )
        gather.say(spanish_prompt, language="es-US")
        if press_zero is not None:
            gather.say(press_zero, language="en-US")
    response.say(goodbye, language="en-US")
    response.hangup()
    return str(response)


def dial(announce: str, number: str, caller_id: str | None, after: str, language: str) -> str:
    """Connect the caller to ``number``; if nobody picks up, say ``after`` and hang up."""
    lang = speech_language(language)
    response = VoiceResponse()
    response.say(announce, language=lang)
    response.dial(number, caller_id=caller_id, timeout=30)
    response.say(after, language=lang)
    response.hangup()
    return str(response)
