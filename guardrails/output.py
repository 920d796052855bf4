"""Checks every draft must pass before a customer could receive it.

`check_draft` returns reason codes; check_output puts them in the decision, which escalates on any of them
(agent/policy.py). The codes:

    empty_draft, no_citation, citation_not_retrieved   grounding: cites only articles retrieved for this ticket
    url_not_allowed                                   a link outside the pack's `url_allowlist`
    refund_amount_outside_policy, deadline_outside_policy   promises beyond the pack's `commitments`
    draft_injection                                   instructions planted in the draft (e.g. through a KB article)
    draft_pii                                         an email, phone, card, IBAN, IP, national id or address that
                                                      is not the requester's own and not in the cited articles
    draft_placeholder                                 a redaction placeholder other than the requester's ("[EMAIL_2]"):
                                                      delivery would show it to the customer as it is
    prompt_leak                                       the canary, or a long stretch of the system prompt

For an LLM drafter: pass the run's canary and the system prompt the model was given,

    check_draft(text, citations, retrieved_ids, url_allowlist, canary=canary, system_prompt=system_prompt,
                requester="[EMAIL_1]", known_values=[...values of the cited articles...])

or call `leaks_prompt(text, canary, system_prompt)` alone. Both may be None (no LLM: nothing to leak).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from urllib.parse import urlsplit

from guardrails.injection import InjectionResult, detect_injection
from guardrails.pii import PLACEHOLDER, REQUESTER_PLACEHOLDER, Finding, find_pii, normalise

# A reply repeating this many characters of the system prompt in a row is repeating its instructions
# (shorter stretches are common phrases: "the customer", "knowledge-base articles").
LEAK_WINDOW = 60

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


def _squash(text: str) -> str:
    return " ".join(text.split()).lower()


def leaks_prompt(text: str, canary: str | None, system_prompt: str | None, window: int = LEAK_WINDOW) -> bool:
    """True when the draft carries the canary or repeats `window` characters of the system prompt."""
    said = _squash(text)
    if canary and canary.lower() in said:
        return True
    if not system_prompt:
        return False
    prompt = _squash(system_prompt)
    # Windows every 20 characters: a repeated stretch of `window` + 20 characters contains one of them whole.
    return any(prompt[i:i + window] in said for i in range(0, max(1, len(prompt) - window + 1), 20))


def foreign_pii(text: str, requester: str | None, known_values: Iterable[str] = ()) -> list[str]:
    """Kinds of the identifiers in the draft that are neither the requester's nor the pack's own.

    `requester` is the requester's placeholder or address; `known_values` are texts the pack itself
    publishes (the retrieved articles: a support address or phone line quoted from them is no one's PII)."""
    allowed = set().union(*(_identifiers(find_pii, value) for value in [*known_values, requester or ""]))
    return sorted({kind for kind, value in _identifiers(find_pii, text) if (kind, value) not in allowed})


# Drafts built from the KB repeat (one text per article), and so do the articles they are checked against:
# their scans are remembered per text for the life of the process, like retrieve's per-article injection
# verdicts. The scanning function is part of the key, so a swapped scanner never reads another's answers.
_SCANS_KEPT = 512


@lru_cache(maxsize=_SCANS_KEPT)
def _identifiers(scan: Callable[[str], list[Finding]], text: str) -> frozenset[tuple[str, str]]:
    """The identifiers in the text as (kind, normalised value)."""
    return frozenset((f.kind, normalise(f.kind, f.value)) for f in scan(text))


@lru_cache(maxsize=_SCANS_KEPT)
def _carries_injection(detect: Callable[[str], InjectionResult], text: str) -> bool:
    return bool(detect(text).flags)


def foreign_placeholders(text: str, requester: str | None) -> list[str]:
    """Placeholders in the draft other than the requester's (theirs is filled in at delivery)."""
    own = {requester, REQUESTER_PLACEHOLDER}
    return sorted({m.group(0) for m in PLACEHOLDER.finditer(text) if m.group(0) not in own})


def links_outside(text: str, url_allowlist: Iterable[str]) -> list[str]:
    """The links in the text that no allow-listed prefix covers."""
    allow = list(url_allowlist)
    return [url for url in _URL.findall(text) if not _allowed(url, allow)]


def check_draft(text: str, citations: list[str], retrieved_ids: list[str], url_allowlist: list[str],
                max_refund_amount: float | None = None, max_promised_days: int | None = None, *,
                requester: str | None = None, known_values: Iterable[str] = (),
                canary: str | None = None, system_prompt: str | None = None) -> list[str]:
    """Reason codes for a draft that may not reach a customer (empty list: it passed). See the module doc."""
    flags: list[str] = commitment_flags(text, max_refund_amount, max_promised_days)
    if _carries_injection(detect_injection, text):
        flags.append("draft_injection")
    if not text.strip():
        flags.append("empty_draft")
    if not citations:
        flags.append("no_citation")
    if any(c not in retrieved_ids for c in citations):
        flags.append("citation_not_retrieved")
    if links_outside(text, url_allowlist):
        flags.append("url_not_allowed")
    if foreign_pii(text, requester, known_values):
        flags.append("draft_pii")
    if foreign_placeholders(text, requester):
        flags.append("draft_placeholder")
    if leaks_prompt(text, canary, system_prompt):
        flags.append("prompt_leak")
    return flags
