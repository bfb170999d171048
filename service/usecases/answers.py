"""The service's own answers (the TwiML replies) kept as outbound messages.

Staff must see what the patient was told: the emergency instruction, the opt-out
confirmation, the menu again. The answer goes out inside the webhook's response, so the row
is written in the webhook's own transaction (no extra commit on the hot path) with status
`sent` and purpose `answer`; the workers never pick it up, since only `pending` rows are sent.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from service.core.triage import Keyword
from service.db import Message

ANSWER_PURPOSE = "answer"


def keyword_category(keyword: Keyword | None, category: str) -> str:
    """A carrier keyword's own category (stop, start, help), else triage's category."""
    return keyword.value if keyword is not None else category


def store_answer(session: Session, inbound: Message, answer: str | None) -> None:
    """Add the answer to `inbound` as an outbound message in the caller's transaction."""
    if not answer:
        return
    session.add(
        Message(
            clinic_id=inbound.clinic_id,
            patient_id=inbound.patient_id,
            direction="outbound",
            channel=inbound.channel,
            purpose=ANSWER_PURPOSE,
            to_number=inbound.from_number,
            from_number=inbound.to_number,
            body=answer,
            status="sent",
        )
    )
