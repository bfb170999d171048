"""Logging that never carries a full phone number: the formatter masks the whole record.

The mask runs on the formatted text, so a traceback (a database error quoting a unique key,
say) is covered too. SQL parameters, where names and bodies would show, never reach an
exception's text: the engine is built with `hide_parameters=True`.
"""

from __future__ import annotations

import logging
import re
from typing import TextIO

# Eight to fifteen digits with phone-style separators, not glued to letters, dots or colons,
# so that times, durations and ids stay readable. A leading + (or its URL form %2B) marks a
# phone anywhere; a bare run after "=" is an id (message=12345678). Dates (2010-04-01, the
# Twilio API version, or a log timestamp) are not phones.
PHONE = re.compile(
    r"(?:(?<![\w.:])\+|(?<![\w.:])%2B|(?<![\w.:=+]))"
    r"(?!\d{4}-\d{2}-\d{2}(?!\d))"
    r"\(?\d(?:[\s()-]{0,2}\d){7,14}(?![\w.:])"
)


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


class MaskingFormatter(logging.Formatter):
    """Masks phone numbers in the whole formatted record: message, traceback and stack."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as the base formatter writes it, phones masked."""
        return mask(super().format(record))


def log_handler(stream: TextIO | None = None) -> logging.Handler:
    """The service's log handler: one line per record, phones masked everywhere in it."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskPhones())
    return handler


def configure_logging(level: str) -> None:
    """Configure the root logger once, with the phone mask on its handler."""
    root = logging.getLogger()
    if any(isinstance(h.formatter, MaskingFormatter) for h in root.handlers):
        return
    root.addHandler(log_handler())
    root.setLevel(level)
    # RQ logs every job at INFO, and the dispatch job runs every few seconds; the twilio
    # client logs each request's method, URL, headers and answer (about 11 lines per send).
    if level != "DEBUG":
        for name in QUIET_AT_INFO:
            logging.getLogger(name).setLevel(logging.WARNING)


QUIET_AT_INFO = ("rq.worker", "rq.scheduler", "rq.cron", "twilio.http_client")
