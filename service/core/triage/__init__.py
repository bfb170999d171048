"""Pure triage of patients' SMS replies: standard library only, no I/O, deterministic."""

from service.core.triage.classifier import Look, Triage, classify, classify_rules, warm_up
from service.core.triage.keywords import Keyword, match_keyword
from service.core.triage.status import Category

__all__ = [
    "Category",
    "Keyword",
    "Look",
    "Triage",
    "classify",
    "classify_rules",
    "match_keyword",
    "warm_up",
]
