"""Fixtures for the transport tests: a running FakeTwilio and a receiver for its callbacks."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.fake_twilio import FakeTwilio


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    """A FakeTwilio serving on a free local port."""
    with FakeTwilio() as fake:
        yield fake


class CallbackReceiver:
    """A tiny local web server that keeps every request it receives."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []

        @Request.application
        def app(request: Request) -> Response:
            self.received.append(
                {
                    "url": request.url,
                    "form": request.form.to_dict(),
                    "signature": request.headers.get("X-Twilio-Signature"),
                }
            )
            return Response("", status=204)

        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )


@pytest.fixture
def callback_receiver() -> Iterator[CallbackReceiver]:
    """A running CallbackReceiver."""
    receiver = CallbackReceiver()
    receiver._thread.start()
    try:
        yield receiver
    finally:
        receiver._server.shutdown()
        receiver._server.server_close()
        receiver._thread.join(timeout=5)
