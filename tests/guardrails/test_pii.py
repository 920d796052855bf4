"""PII: identifiers found (with their checksums), look-alikes left alone, placeholders mapped back."""

from __future__ import annotations

import pytest

from guardrails.pii import (
    REQUESTER_PLACEHOLDER,
    fill_requester,
    find_pii,
    iban_valid,
    luhn_valid,
    redact,
    redact_ticket,
)


@pytest.mark.parametrize("text, kind", [
    ("write to jo.bloggs+work@acme.example please", "EMAIL"),
    ("call me on +44 20 7946 0958 after 5", "PHONE"),
    ("my mobile is (555) 010-4477", "PHONE"),
    ("phone: 4155550123", "PHONE"),
    ("can someone call me on 0475891056?", "PHONE"),
    ("stop sending messages to +39 3239420047", "PHONE"),
    ("reach me at 001-805-995-5542x76704 tomorrow", "PHONE"),
    ("Mobile: 03.93.92.16.85", "PHONE"),
    ("0217397452-Office,+49(0)6192 08179-Fax", "PHONE"),
    ("card 4111 1111 1111 1111 was charged", "CARD"),
    ("amex 3782-822463-10005 expired", "CARD"),
    ("refund to DE89 3704 0044 0532 0130 00 please", "IBAN"),
    ("my iban is gb82west12345698765432", "IBAN"),
    ("transfer from ES91 2100 0418 4502 0005 1332 to other banks", "IBAN"),
    ("logins from 203.0.113.42 and 2001:db8::8a2e:370:7334", "IP"),
    ("SSN 123-45-6789 on file", "US_SSN"),
    ("NI number AB 12 34 56 C", "UK_NINO"),
    ("codice fiscale RSSMRA85T10A562S", "IT_FISCAL_CODE"),
    ("numéro de sécurité sociale 1 85 05 78 006 084 91", "FR_NIR"),
    ("my BSN is 111222333", "NL_BSN"),
    ("ship it to 221 Baker Street, Apt 2", "ADDRESS"),
    ("Neue Anschrift: Lindenallee 4, 50968 Köln", "ADDRESS"),
    ("envoyez-le au 24, rue Gomez, 10475 Thierry", "ADDRESS"),
])
def test_identifiers_are_found(text: str, kind: str) -> None:
    assert kind in {f.kind for f in find_pii(text)}


@pytest.mark.parametrize("text", [
    "invoice INV-2025-0042 for 3 seats",
    "INV numbers: 2025-06114, 2025-07208, 2025-08239",
    "order 4111 1111 1111 1112 (not a valid card number)",
    "we have 1200 tasks and 35 projects",
    "the meeting is on 2025-11-03 at 10.30",
    "it started at 2025-11-03 14:05:07.123456 UTC",
    "on 03/11/2025 and again on 11.03.25",
    "version 10.4.2 of the app, build 2024.11.0815",
    "we were charged 1,299.00 EUR, then 1.299,00 EUR, then $12,500.50",
    "a budget of 1 200 000 for the year",
    "Where's my parcel? Tracking number 1Z 999 AA1 01 2345 6784.",
    "please put our VAT number FR 40 812 554 901 on the invoices",
    "My account number is 4471-2209-88.",
    "Case No. 2025-CV-04417, Superior Court of the County",
    "app.orbitly.example is giving 502 Bad Gateway to our whole team",
    "During 1991, the company moved",
    "we ordered 5 YubiKey Security Key units for the 2 Data Center racks",
    "ticket #48213977 was closed",
])
def test_look_alikes_are_not_pii(text: str) -> None:
    assert find_pii(text) == []


def test_checksums() -> None:
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert iban_valid("GB82 WEST 1234 5698 7654 32") and not iban_valid("GB82 WEST 1234 5698 7654 33")
    assert find_pii("codice fiscale RSSMRA85T10A562T") == []  # wrong control letter
    assert find_pii("my BSN is 111222334") == []  # fails the 11-test


def test_redaction_is_consistent_and_counts_without_values() -> None:
    result = redact("mail a@x.example or A@X.example, or b@y.example, call +1 415 555 0100")
    assert result.text == "mail [EMAIL_1] or [EMAIL_1], or [EMAIL_2], call [PHONE_1]"
    assert result.counts == {"EMAIL": 3, "PHONE": 1}
    assert result.mapping == {"[EMAIL_1]": "a@x.example", "[EMAIL_2]": "b@y.example", "[PHONE_1]": "+1 415 555 0100"}


def test_ticket_redaction_numbers_subject_and_body_together_and_names_the_requester() -> None:
    ticket = redact_ticket("Card 4111 1111 1111 1111 blocked", "I am jo@acme.example, the card 4111-1111-1111-1111 "
                           "is blocked; my colleague bo@acme.example too", requester="Jo@Acme.example")
    assert ticket.subject == "Card [CARD_1] blocked"
    assert ticket.text == "I am [EMAIL_1], the card [CARD_1] is blocked; my colleague [EMAIL_2] too"
    assert ticket.requester == "[EMAIL_1]"
    # The PII store keeps subject and body as one text: the same placeholders come back from it.
    stored = "Card 4111 1111 1111 1111 blocked\n" + "I am jo@acme.example, the card 4111-1111-1111-1111 " \
        "is blocked; my colleague bo@acme.example too"
    assert redact_ticket("", stored, "Jo@Acme.example").mapping == ticket.mapping


def test_a_requester_absent_from_the_text_gets_their_own_placeholder() -> None:
    ticket = redact_ticket("", "my password expired", requester="jo@acme.example")
    assert ticket.requester == REQUESTER_PLACEHOLDER and ticket.mapping == {REQUESTER_PLACEHOLDER: "jo@acme.example"}
    assert redact_ticket("", "my password expired", requester=None).requester is None


def test_only_the_requesters_own_values_are_filled_back() -> None:
    ticket = redact_ticket("", "I'm jo@acme.example; please also add bo@acme.example, call +44 20 7946 0958",
                           requester="jo@acme.example")
    reply = "We sent the link to [EMAIL_1]. [EMAIL_2] and [PHONE_1] need their own request."
    assert fill_requester(reply, ticket.mapping, "jo@acme.example") == (
        "We sent the link to jo@acme.example. [EMAIL_2] and [PHONE_1] need their own request.")
    assert fill_requester(reply, ticket.mapping, None) == reply
    assert fill_requester("Hello [REQUESTER],", {REQUESTER_PLACEHOLDER: "jo@acme.example"},
                          "jo@acme.example") == "Hello jo@acme.example,"
