"""Checks every draft must pass before a customer could receive it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from guardrails.injection import detect_injection

_URL = re.compile(r"https?://[^\s<>\"')\]]+", re.IGNORECASE)
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")
_MONEY = re.compile(r"(?:[$€£]\s?(\d[\d,]*(?:\.\d{1,2})?)|(\d[\d,]*(?:\.\d{1,2})?)\s?"
                    r"(?:USD|EUR|GBP|dollars|euros|pounds)\b)", re.IGNORECASE)
_REFUND_WORDS = re.compile(r"\b(?:refund\w*|credit(?:ed)?|compensat\w*|reimburs\w*|money\s+back|pay\s+you)\b",
                           re.IGNORECASE)
# "within 5 business days" promises a deadline; "within 30 days of renewal" describes a window.
_DEADLINE = re.compile(r"\b(?:within|in(?:\s+the\s+next)?)\s+(\d+)\s+(?:business\s+|working\s+|calendar\s+)?days?\b"
                       r"(?!\s+(?:of|after|from|before|since|following))", re.IGNORECASE)


def commitment_flags(text: str, max_refund_amount: float | None, max_promised_days: int | None) -> list[str]:
    """Refund amounts above what the pack allows, or deadlines longer than it may promise."""
    flags: list[str] = []
    for sentence in _SENTENCE.findall(text):
        if _REFUND_WORDS.search(sentence):
            for match in _MONEY.finditer(sentence):
                amount = float((match.group(1) or match.group(2)).replace(",", ""))
                if max_refund_amount is None or amount > max_refund_amount:
                    flags.append("refund_amount_outside_policy")
                    break
    for match in _DEADLINE.finditer(text):
        if max_promised_days is not None and int(match.group(1)) > max_promised_days:
            flags.append("deadline_outside_policy")
            break
    return sorted(set(flags))


def _allowed(url: str, allowlist: Iterable[str]) -> bool:
    parts = urlsplit(url.rstrip(".,;:!?"))
    for prefix in allowlist:
        allowed = urlsplit(prefix)
        if parts.scheme == allowed.scheme and parts.netloc.lower() == allowed.netloc.lower() \
                and parts.path.startswith(allowed.path.rstrip("/")):
            return True
    return False


def check_draft(text: str, citations: list[str], retrieved_ids: list[str], url_allowlist: list[str],
                max_refund_amount: float | None = None, max_promised_days: int | None = None) -> list[str]:
    """Flags for a draft: empty, uncited, citing an unretrieved article, linking off-list, promising what
    the pack does not allow, or carrying instructions (an injection planted in a KB article reaches the
    draft through retrieval)."""
    flags: list[str] = commitment_flags(text, max_refund_amount, max_promised_days)
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
