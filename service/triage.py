"""Triage entry point for the rest of the service (see service.core.triage)."""

from service.core.triage import Keyword, Triage, classify, match_keyword

__all__ = ["Keyword", "Triage", "classify", "match_keyword"]
