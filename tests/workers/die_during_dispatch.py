"""Run one dispatch tick in this process and die (os._exit) while it asks Twilio about a
lost send, as a worker SIGKILLed mid-tick takes its dispatch child with it:
`python -m tests.workers.die_during_dispatch`."""

from __future__ import annotations

import os
from typing import Any

from config import Settings
from service.runtime import build_runtime, build_transport
from service.transport import Sent
from workers import jobs
from workers.context import install


class DyingOnSettle:
    """The real transport, with the process dying when the settle asks Twilio."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def send_sms(self, **kwargs: Any) -> Sent:
        sent: Sent = self.real.send_sms(**kwargs)
        return sent

    def place_call(self, **kwargs: Any) -> Sent:
        sent: Sent = self.real.place_call(**kwargs)
        return sent

    def find_sent(self, **kwargs: Any) -> list[Sent]:
        os._exit(9)  # mid-tick: the dispatch lock is held


def main() -> None:
    """Run the dispatch until the process dies."""
    settings = Settings.from_env()
    install(build_runtime(settings, DyingOnSettle(build_transport(settings))))
    jobs.dispatch_due()


if __name__ == "__main__":
    main()
