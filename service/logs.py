"""Logging that never carries a full phone number: a filter masks any that slip through."""

from __future__ import annotations

import logging
import re

# Eight to fifteen digits with phone-style separators, not glued to letters, dots or colons,
# so that times, durations and ids stay readable.
PHONE = re.compile(r"(?<![\w.:])\+?\d(?:[\s()-]{0,2}\d){7,14}(?![\w.:])")


def mask(text: str) -> str:
    """Replace phone-like digit runs with their last two digits only."""
    return PHONE.sub(lambda m: "***" + re.sub(r"\D", "", m.group())[-2:], text)


class MaskPhones(logging.Filter):
    """Masks phone numbers in every record's final message (a last line of defence)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message with phones masked."""
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def configure_logging(level: str) -> None:
    """Configure the root logger once, with the phone mask on its handler."""
    root = logging.getLogger()
    if any(isinstance(f, MaskPhones) for h in root.handlers for f in h.filters):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskPhones())
    root.addHandler(handler)
    root.setLevel(level)
    # RQ logs every job at INFO, and the dispatch job runs every few seconds; the twilio
    # client logs each request's method, URL, headers and answer (about 11 lines per send).
    if level != "DEBUG":
        for name in QUIET_AT_INFO:
            logging.getLogger(name).setLevel(logging.WARNING)


QUIET_AT_INFO = ("rq.worker", "rq.scheduler", "rq.cron", "twilio.http_client")
