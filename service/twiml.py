"""TwiML documents: the voice scripts, built with twilio's own classes, and the SMS answer."""

from __future__ import annotations

from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

SPEECH_LANGUAGE = {"en": "en-US", "es": "es-US"}
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
EMPTY_RESPONSE = f"{XML_DECLARATION}<Response />"


def sms_answer(text: str | None) -> str:
    """`<Response><Message>…</Message></Response>`, or an empty `<Response/>`.

    Every inbound SMS is answered with one of these, so it is a string template rather than
    twilio's ElementTree builder (which cost a tenth of the webhook's CPU): the same bytes,
    escaped as ElementTree escapes text (`&`, `<`, `>`). A text that UTF-8 cannot encode
    (a lone surrogate) goes through the builder, which writes it as a character reference.
    """
    if not text:
        return EMPTY_RESPONSE
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        response = MessagingResponse()
        response.message(text)
        return str(response)
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"{XML_DECLARATION}<Response><Message>{escaped}</Message></Response>"


def voice_say(text: str, language: str = "en", *, repeat: int = 1) -> str:
    """A call that speaks `text` (twice for alerts, so staff catch it) and hangs up."""
    response = VoiceResponse()
    for index in range(repeat):
        if index:
            response.pause(length=1)
        response.say(text, language=SPEECH_LANGUAGE.get(language, "en-US"))
    response.hangup()
    return str(response)


def voice_checkin(question: str, no_input: str, action_url: str, language: str) -> str:
    """Ask the check-in question and take one key press or a spoken answer."""
    lang = SPEECH_LANGUAGE.get(language, "en-US")
    response = VoiceResponse()
    # input must be one space-separated string; a Python list renders wrongly.
    gather = response.gather(
        input="dtmf speech",
        num_digits=1,
        action=action_url,
        method="POST",
        timeout=8,
        speech_timeout="auto",
        language=lang,
    )
    gather.say(question, language=lang)
    response.say(no_input, language=lang)
    response.hangup()
    return str(response)


def voice_alert(alert: str, prompt: str, action_url: str, language: str) -> str:
    """The alert call: say the alert, then take one key (1 acknowledge, 2 connect); twice."""
    lang = SPEECH_LANGUAGE.get(language, "en-US")
    response = VoiceResponse()
    for _ in range(2):
        gather = response.gather(
            input="dtmf", num_digits=1, action=action_url, method="POST", timeout=6
        )
        gather.say(alert, language=lang)
        if prompt:
            gather.say(prompt, language=lang)
    response.hangup()
    return str(response)


def voice_connect(said: str, number: str, caller_id: str, language: str) -> str:
    """Say one line, then bridge the call to `number`, showing `caller_id`."""
    response = VoiceResponse()
    response.say(said, language=SPEECH_LANGUAGE.get(language, "en-US"))
    response.dial(number, caller_id=caller_id)
    return str(response)
