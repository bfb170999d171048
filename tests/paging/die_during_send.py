"""Deliver one message in this process and die (os._exit) right before or right after the
real send: `python -m tests.paging.die_during_send before|after MESSAGE_ID`."""

from __future__ import annotations

import os
import sys
from typing import Any

from config import Settings
from service.runtime import build_runtime, build_transport
from service.transport import Sent
from workers import jobs
from workers.context import install


class Dying:
    """The real transport, with the process dying around the send."""

    def __init__(self, real: Any, when: str) -> None:
        self.real, self.when = real, when

    def _around(self, send: Any, **kwargs: Any) -> Sent:
        if self.when == "before":
            os._exit(9)  # claimed, never sent
        sent: Sent = send(**kwargs)
        os._exit(9)  # Twilio accepted it; the sid is never stored
        return sent  # pragma: no cover

    def send_sms(self, **kwargs: Any) -> Sent:
        return self._around(self.real.send_sms, **kwargs)

    def place_call(self, **kwargs: Any) -> Sent:
        return self._around(self.real.place_call, **kwargs)

    def find_sent(self, **kwargs: Any) -> list[Sent]:
        return list(self.real.find_sent(**kwargs))


def main() -> None:
    """Run the delivery until the process dies."""
    when, message_id = sys.argv[1], int(sys.argv[2])
    settings = Settings.from_env()
    install(build_runtime(settings, Dying(build_transport(settings), when)))
    jobs.deliver_message(message_id)


if __name__ == "__main__":
    main()
