"""The app factory compiles the triage vocabulary and loads the learned reader, so the first
webhook does not pay for them."""

from __future__ import annotations

from config import Settings
from service.app import create_app
from service.core.triage import classify, learned
from service.core.triage.compose import grammar
from service.core.triage.vocab import vocabulary
from service.runtime import Runtime


def test_create_app_compiles_the_triage_vocabulary(settings: Settings) -> None:
    grammar.cache_clear()
    vocabulary.cache_clear()
    learned.model.cache_clear()
    application = create_app(settings)
    runtime: Runtime = application.extensions["checkin"]
    try:
        assert grammar.cache_info().currsize == 2  # English and Spanish
        assert vocabulary.cache_info().currsize == 2
        assert learned.model.cache_info().currsize == 1
    finally:
        runtime.close()


def test_the_warm_up_reads_even_when_short_replies_are_remembered(settings: Settings) -> None:
    classify("warm up")  # a short reply's result is kept for the process
    classify("2")
    test_create_app_compiles_the_triage_vocabulary(settings)
