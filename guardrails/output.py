"""Checks every draft must pass before a customer could receive it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from guardrails.injection import detect_injection

_URL = re.compile(r"https?://[^\s<>\"')\]]+", re.IGNORECASE)


def _allowed(url: str, allowlist: Iterable[str]) -> bool:
    parts = urlsplit(url.rstrip(".,;:!?"))
    for prefix in allowlist:
        allowed = urlsplit(prefix)
        if parts.scheme == allowed.scheme and parts.netloc.lower() == allowed.netloc.lower() \
                and parts.path.startswith(allowed.path.rstrip("/")):
            return True
    return False


def check_draft(text: str, citations: list[str], retrieved_ids: list[str], url_allowlist: list[str]) -> list[str]:
    """Flags for a draft: empty, uncited, citing an unretrieved article, linking off-list, or carrying
    instructions (an injection planted in a KB article reaches the draft through retrieval)."""
    flags: list[str] = []
    if detect_injection(text).flags:
        flags.append("draft_injection")
    if not text.strip():
        flags.append("empty_draft")
    if not citations:
        flags.append("no_citation")
    if any(c not in retrieved_ids for c in citations):
        flags.append("citation_not_retrieved")
    if any(not _allowed(url, url_allowlist) for url in _URL.findall(text)):
        flags.append("url_not_allowed")
    return flags
