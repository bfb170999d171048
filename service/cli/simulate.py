"""`checkin simulate`: play the patient at a prompt against the running service.

Each line typed is posted to /twilio/sms as Twilio would post it (signed when a token is
configured). The service's answer is printed, and so is every SMS the console transport
records for that phone, as it arrives.
"""

from __future__ import annotations

import threading
import uuid
import xml.etree.ElementTree as ET

import click
import requests
from twilio.request_validator import RequestValidator

from config import Settings
from service.api.validation import to_e164
from service.transport import read_outbox


def answer_text(twiml: str) -> str | None:
    """The text of a TwiML SMS answer, or None for an empty `<Response/>`."""
    root = ET.fromstring(twiml)
    texts = [m.text or "" for m in root.iter("Message")]
    return "\n".join(texts) if texts else None


def signed_post(
    url: str, signing_url: str, form: dict[str, str], token: str | None
) -> requests.Response:
    """POST a form as Twilio does, with X-Twilio-Signature when a token is known."""
    headers = {}
    if token:
        headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(signing_url, form)
    return requests.post(url, data=form, headers=headers, timeout=20)


class OutboxWatcher:
    """Prints what the console transport records for one phone, each record once."""

    def __init__(self, settings: Settings, phone: str, backlog: int = 3) -> None:
        self.outbox, self.phone = settings.console_outbox, phone
        records = read_outbox(self.outbox)
        self.seen = int(records[-1]["line"]) if records else 0
        self.lock = threading.Lock()
        # What was already sent to this phone (e.g. the check-in that started it all).
        for record in [r for r in records if r.get("to") == phone][-backlog:]:
            click.echo(f"<< [{record.get('kind', 'sms')}] {record.get('body', '')}")

    def poll(self) -> None:
        """Print the records added since the last poll."""
        with self.lock:
            records = read_outbox(self.outbox, after_line=self.seen)
            for record in records:
                self.seen = max(self.seen, int(record.get("line", self.seen)))
                if record.get("to") == self.phone:
                    click.echo(f"<< [{record.get('kind', 'sms')}] {record.get('body', '')}")

    def run(self, stop: threading.Event) -> None:
        """Poll until stopped, so check-ins sent by the worker show up as they arrive."""
        while not stop.wait(0.5):
            self.poll()


@click.command("simulate")
@click.option("--phone", required=True, help="The patient's phone (E.164).")
@click.option("--url", default=None, help="The service's base URL (default PUBLIC_BASE_URL).")
@click.option("--to", "to_number", default=None, help="The number texted (default the sender's).")
def simulate(phone: str, url: str | None, to_number: str | None) -> None:
    """Text the service as a patient, line by line; Ctrl-D ends."""
    settings = Settings.from_env()
    try:
        phone = to_e164(phone)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--phone") from None
    base = (url or settings.public_base_url).rstrip("/")
    to = to_number or settings.twilio_from_number or ""
    stop = threading.Event()
    click.echo(f"Texting {base}/twilio/sms as {phone}. Type a reply; Ctrl-D to quit.")
    watcher = OutboxWatcher(settings, phone)
    threading.Thread(target=watcher.run, args=(stop,), daemon=True).start()
    try:
        while True:
            try:
                line = input("> ")
            except EOFError:
                break
            form = {
                "MessageSid": "SM" + uuid.uuid4().hex,
                "AccountSid": settings.twilio_account_sid or "AC" + "0" * 32,
                "From": phone,
                "To": to,
                "Body": line,
                "NumMedia": "0",
            }
            response = signed_post(
                f"{base}/twilio/sms",
                f"{settings.public_base_url}/twilio/sms",
                form,
                settings.twilio_auth_token,
            )
            if response.status_code != 200:
                click.echo(f"!! the service answered HTTP {response.status_code}")
                continue
            answer = answer_text(response.text)
            click.echo(f"<< {answer}" if answer else "<< (no answer)")
    finally:
        stop.set()
        watcher.poll()
