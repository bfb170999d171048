"""Reading TwiML in tests: parse the XML, never look for substrings."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Said:
    """One <Say>: its words and its language."""

    text: str
    language: str | None


class Twiml:
    """A parsed TwiML document."""

    def __init__(self, document: str) -> None:
        self.root = ET.fromstring(document)
        assert self.root.tag == "Response", document

    def verbs(self) -> list[str]:
        """The top-level verbs, in order."""
        return [child.tag for child in self.root]

    def says(self) -> list[Said]:
        """Every <Say>, nested ones included, in document order."""
        return [Said((el.text or "").strip(), el.get("language")) for el in self.root.iter("Say")]

    def spoken(self) -> str:
        """All the words said, joined."""
        return " ".join(s.text for s in self.says())

    def gather(self) -> ET.Element | None:
        """The (only) <Gather>, if any."""
        found = self.root.findall("Gather")
        assert len(found) <= 1
        return found[0] if found else None

    def redirect(self) -> str | None:
        """The <Redirect> URL, if any."""
        element = self.root.find("Redirect")
        return None if element is None else (element.text or "").strip()

    def dial(self) -> ET.Element | None:
        """The <Dial>, if any."""
        return self.root.find("Dial")

    def hangs_up(self) -> bool:
        """Whether the document ends the call."""
        return self.verbs()[-1:] == ["Hangup"]


def path_and_query(url: str) -> tuple[str, dict[str, str]]:
    """A webhook URL's path and its query parameters."""
    parts = urlsplit(url)
    return parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}
