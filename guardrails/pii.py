"""PII detection and redaction for structured identifiers, before text reaches a model, a log or the audit.

Each detector is a pattern plus, where the identifier has one, its checksum (Luhn for cards, ISO 7064
mod 97 for IBANs, octet ranges for IPv4), so order numbers and dates are not mistaken for cards or
phones. Redaction replaces each value with a typed placeholder ("[EMAIL_1]"); the values themselves stay
with the raw text in the PII store, never in the audit chain.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from dataclasses import dataclass, field

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+(?![\w-])")
CARD = re.compile(r"(?<!\d)(?:\d[ -]?){11,18}\d(?!\d)")
IBAN = re.compile(r"(?i)\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")
IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){2,7}(?::|[0-9A-Fa-f]{1,4})(?![\w:])"
                  r"|(?<![\w:])::(?:[0-9A-Fa-f]{1,4}:?){1,7}")
US_SSN = re.compile(r"\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b")
UK_NINO = re.compile(r"\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b")
# A phone number: an optional country code, an optional area code in brackets, 7-15 digits in groups.
PHONE = re.compile(
    r"(?<![\w+/-])(?:\+\d{1,3}[ \t.-]?|00\d{1,3}[ \t.-]?)?(?:\(\d{1,5}\)[ \t.-]?)?\d{1,8}(?:[ \t.-]\d{1,8}){1,5}"
    r"(?:[ \t]?(?:x|ext\.?)[ \t]?\d{1,5})?(?![\w])|(?<![\w+])\+\d{7,15}(?!\w)"
)
# A run of digits is a phone number only when a phone word stands just before it.
BARE_PHONE = re.compile(
    r"(?i)\b(?:phone|tel|telephone|mobile|cell|fax|call(?:\s+me)?(?:\s+(?:on|at))?|whatsapp|number)\b[\s:.#-]{0,12}"
    r"(?:is\s+|on\s+|at\s+)?(\d{7,15})(?!\d)"
)
STREET = re.compile(
    r"\b\d{1,5}[A-Za-z]?\s+(?:[A-Z][a-z]+\.?\s+){1,4}(?:Street|St\.?|Avenue|Ave\.?|Road|Rd\.?|Lane|Ln\.?|Drive|Dr\.?|"
    r"Boulevard|Blvd\.?|Way|Court|Ct\.?|Place|Pl\.?|Square|Sq\.?|Terrace|Parkway|Pkwy\.?|Highway|Hwy\.?|Close|"
    r"Crescent|Gardens|Row)\b(?:,?\s+(?:Apt\.?|Suite|Unit|Flat)\s*\w+)?"
)
_DATE_LIKE = re.compile(r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}$|^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$")


def luhn_valid(digits: str) -> bool:
    total, parity = 0, len(digits) % 2
    for i, ch in enumerate(digits):
        d = int(ch)
        if i % 2 == parity:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_valid(candidate: str) -> bool:
    compact = candidate.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int
    value: str


@dataclass(frozen=True)
class Redaction:
    text: str
    """The text with every finding replaced by a typed placeholder."""
    findings: list[Finding] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        """How many values of each kind were found (safe to log: no values)."""
        return dict(Counter(f.kind for f in self.findings))


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def find_pii(text: str) -> list[Finding]:
    """Every structured identifier in the text, longest first where two overlap."""
    found: list[Finding] = []

    def add(kind: str, match: re.Match[str]) -> None:
        found.append(Finding(kind, match.start(), match.end(), match.group(0)))

    for m in EMAIL.finditer(text):
        add("EMAIL", m)
    for m in IBAN.finditer(text):
        if iban_valid(m.group(0)):
            add("IBAN", m)
    for m in CARD.finditer(text):
        digits = _digits(m.group(0))
        if 12 <= len(digits) <= 19 and luhn_valid(digits):  # Maestro cards start at 12 digits
            add("CARD", m)
    for m in US_SSN.finditer(text):
        add("US_SSN", m)
    for m in UK_NINO.finditer(text):
        add("UK_NINO", m)
    for m in IPV4.finditer(text):
        if all(int(part) <= 255 for part in m.group(0).split(".")):
            add("IP", m)
    for m in IPV6.finditer(text):
        try:
            ipaddress.IPv6Address(m.group(0))
        except ValueError:
            continue
        add("IP", m)
    for m in PHONE.finditer(text):
        value = m.group(0).strip()
        digits = _digits(value)
        if 7 <= len(digits) <= 15 and not _DATE_LIKE.match(value) and (
            value.startswith(("+", "(", "00")) or re.search(r"\d[\s.-]\d", value)
        ):
            add("PHONE", m)
    for m in BARE_PHONE.finditer(text):
        found.append(Finding("PHONE", m.start(1), m.end(1), m.group(1)))
    for m in STREET.finditer(text):
        add("ADDRESS", m)
    # Keep the first-found kind on overlaps (email before phone, card before phone, ...).
    kept: list[Finding] = []
    for f in found:
        if all(f.end <= k.start or f.start >= k.end for k in kept):
            kept.append(f)
    return sorted(kept, key=lambda f: f.start)


def redact(text: str) -> Redaction:
    """Replace each identifier with [KIND_n]; the same value gets the same placeholder."""
    findings = find_pii(text)
    numbering: dict[tuple[str, str], str] = {}
    per_kind: Counter[str] = Counter()
    out, last = [], 0
    for f in findings:
        key = (f.kind, f.value)
        if key not in numbering:
            per_kind[f.kind] += 1
            numbering[key] = f"[{f.kind}_{per_kind[f.kind]}]"
        out.append(text[last:f.start])
        out.append(numbering[key])
        last = f.end
    out.append(text[last:])
    return Redaction(text="".join(out), findings=findings)
