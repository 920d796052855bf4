"""PII: structured identifiers found (with their checksums), redacted, and kept out of graph state."""

from __future__ import annotations

import pytest

from guardrails.pii import find_pii, iban_valid, luhn_valid, redact


@pytest.mark.parametrize("text, kind", [
    ("write to jo.bloggs+work@acme.example please", "EMAIL"),
    ("call me on +44 20 7946 0958 after 5", "PHONE"),
    ("my mobile is (555) 010-4477", "PHONE"),
    ("phone: 4155550123", "PHONE"),
    ("card 4111 1111 1111 1111 was charged", "CARD"),
    ("refund to DE89 3704 0044 0532 0130 00 please", "IBAN"),
    ("logins from 203.0.113.42 and 2001:db8::8a2e:370:7334", "IP"),
    ("SSN 123-45-6789 on file", "US_SSN"),
    ("NI number AB 12 34 56 C", "UK_NINO"),
    ("ship it to 221 Baker Street, Apt 2", "ADDRESS"),
])
def test_identifiers_are_found(text: str, kind: str) -> None:
    assert kind in {f.kind for f in find_pii(text)}


@pytest.mark.parametrize("text", [
    "invoice INV-2025-0042 for 3 seats",
    "order 4111 1111 1111 1112 (not a valid card number)",
    "we have 1200 tasks and 35 projects",
    "the meeting is on 2025-11-03 at 10.30",
    "version 10.4.2 of the app",
])
def test_look_alikes_are_not_pii(text: str) -> None:
    assert find_pii(text) == []


def test_checksums() -> None:
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert iban_valid("GB82 WEST 1234 5698 7654 32") and not iban_valid("GB82 WEST 1234 5698 7654 33")


def test_redaction_is_consistent_and_counts_without_values() -> None:
    result = redact("mail a@x.example or a@x.example, or b@y.example, call +1 415 555 0100")
    assert result.text == "mail [EMAIL_1] or [EMAIL_1], or [EMAIL_2], call [PHONE_1]"
    assert result.counts == {"EMAIL": 3, "PHONE": 1}
