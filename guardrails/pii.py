"""PII detection and redaction, before text reaches a model, a log, a checkpoint or the audit.

Each detector is a pattern plus, where the identifier has one, its checksum (Luhn for cards, ISO 7064
mod 97 for IBANs and French social security numbers, the control letter of Italian fiscal codes, the
11-test of Dutch BSNs, octet ranges for IPv4), so order numbers and dates are not mistaken for cards or
phones. Phone numbers have no checksum: a run of digits counts as one when its shape says so (a "+" or
"00" country code, an area code in brackets, grouped digits) or when a phone word stands next to it, and
not when an order, invoice or tracking word does. Measured by `python -m eval.pii_bench`.

Redaction replaces each value with a typed placeholder ("[EMAIL_1]"); the same value (however it is
written) gets the same placeholder within a text. The placeholder -> value mapping stays with the raw
text in the PII store (service/pii.py), never in the audit chain; `fill_requester` puts the requester's
own values back into an approved reply at delivery time and leaves every other placeholder as it is.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+(?![\w-])")
# Groups of up to four letters or digits after the country code and check digits, separated by single spaces.
IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{1,4}){3,8}(?![A-Za-z0-9])")
CARD = re.compile(r"(?<![\d+])\d(?:[ -]?\d){11,18}(?![\d])")
IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){2,7}(?::|[0-9A-Fa-f]{1,4})(?![\w:])"
                  r"|(?<![\w:])::(?:[0-9A-Fa-f]{1,4}:?){1,7}")
US_SSN = re.compile(r"\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b")
UK_NINO = re.compile(r"\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b")
IT_FISCAL_CODE = re.compile(r"\b[A-Z]{6}\d{2}[A-EHLMPR-T]\d{2}[A-Z]\d{3}[A-Z]\b", re.IGNORECASE)
FR_NIR = re.compile(r"(?<![\d])[12] ?\d{2} ?\d{2} ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}(?![\d])")
NL_BSN = re.compile(r"(?i)\b(?:bsn|burgerservicenummer|sofinummer|social security(?: number)?|ssn)\b\D{0,20}?"
                    r"(\d{9})(?!\d)")
# A candidate phone number: digits and bracketed groups with single separators, an optional "+" and an
# optional extension. Never the tail of a word, a path, a version or a time (the look-behind), never the
# head of a decimal, a version or a code (the look-ahead). Whether it *is* a phone is `_is_phone`'s call.
PHONE_RUN = re.compile(
    r"(?<![\w+/.:-])(?<!\d,)(?:\+ ?)?(?:\(\d{1,5}\)|\d)(?:[ \t./-]?(?:\(\d{1,5}\)|\d))*"
    r"(?:[ \t]?(?:x|ext\.?|extension)[ \t]?\d{1,6})?(?![\w]|[.,/]\d|[-:]\d)"
)
_EXTENSION = re.compile(r"[ \t]?(?:x|ext\.?|extension)[ \t]?\d{1,6}$")
_PHONE_WORDS = re.compile(
    r"(?i)\b(?:phone|tel|tele?fon|telephone|mobile|mobil|cell|cellphone|fax|call|ring|text|sms|whatsapp|reach|"
    r"contact|desk|landline|hotline|dial|messages?|registered|answering|number|nummer|numéro|numero|móvil|"
    r"portable|cellulare|office)\b(?:\W+\w+){0,2}?\W*$"
)
_PHONE_WORD_BEFORE = re.compile(r"(?i)\b(?:phone|tel|telephone|mobile|cell|fax|desk)\W*$")
_PHONE_AFTER = re.compile(r"(?i)^\W{0,3}(?:office|fax|mobile|cell|home|work|desk|direct|tel)\b")
# Identifier words: the number after them is an order, invoice, tracking or tax number, not a phone.
_ID_WORDS = re.compile(
    r"(?i)\b(?:order|invoice|inv|ticket|case|ref|reference|tracking|parcel|shipment|account|acct|customer|id|"
    r"sku|serial|po|vat|tax|abn|ust-idnr|siret|siren|iban|card|no|nr|version|build|release|"
    r"licen[cs]e|contract|policy|receipt|transaction|booking|confirmation|code)s?\b"
    r"(?:[\s:#.]{0,4}(?:numbers?|no|nr|num|is|was|are))*[\s:#.]{0,4}$"
)
# A number right after a short capital code or a token with digits continues that code ("FR 40 812 554 901").
_CODE_TAIL = re.compile(r"(?<![\w.])(?:[A-Z]{1,3}|\w*\d\w*)[ \t]$")
_THOUSANDS = re.compile(r"^\d{1,3}(?:([.,' ])\d{3})(?:\1\d{3})*$")
# Street lines: "221 Baker Street", "865, rue de Lelièvre", "Via Tiziano, 10", "Hauptstraße 5", "Zakariabaan 12".
# English street types, without those that are everyday words in tickets ("2 Factor Key", "Service Center").
_EN_STREET_TYPES = (
    r"Street|St\.?|Avenue|Ave\.?|Road|Rd\.?|Lane|Ln\.?|Drive|Dr\.?|Boulevard|Blvd\.?|Way|Court|Ct\.?|Place|Pl\.?|"
    r"Square|Sq\.?|Terrace|Parkway|Pkwy\.?|Highway|Hwy\.?|Close|Crescent|Gardens|Row|Trail|Lakes?|Hills?|Parks?|"
    r"Ridges?|Groves?|Heights|Views?|Villages?|Points?|Ports?|Harbors?|Islands?|Meadows?|Mills?|Springs?|"
    r"Stravenue|Streets|Plains?|Roads|Routes?|Walks?|Wells?|Woods?|Fields?|Forges?|Fork|Junction|Manors?|Mews|"
    r"Motorway|Orchard|Oval|Pike|Pines|Plaza|Radial|Ranch|Rapids?|Shoals?|Shores?|Spur|Throughway|Tunnel|Turnpike|"
    r"Underpass|Valleys?|Via|Vista|Ville|Common|Commons|Corners?|Courts|Coves?|Creek|Crossing|Dale|Dam|Estates?|"
    r"Expressway|Falls|Ferry|Flats?|Fords?|Forest|Freeway|Garden|Glens?|Greens?|Haven|Hollow|Inlet|Knolls?|"
    r"Landing|Lodge|Mount|Mountains?|Neck|Overpass|Prairie|Brook|Burg|Bypass|Camp|Canyon|Cape|Causeway|Circles?|"
    r"Cliffs?|Bend|Bluffs?|Branch|Bridge|Alley|Annex|Arcade|Beach|Drives|Green|Hill|Isle|Lake|Parade|Rise|Wharf|"
    r"Walk|Wynd"
)
STREET = re.compile(
    r"(?<![\w-])\d{1,5}[A-Za-z]?[ \t]+(?:[A-Z][\w'-]*\.?[ \t]+){1,4}(?:" + _EN_STREET_TYPES + r")\b"
    r"(?:,?[ \t]+(?:Apt\.?|Suite|Unit|Flat|Piso|Piano)[ \t]*\w+)?"
    r"|(?:\b\d{1,5}(?:[ \t]?bis)?,?[ \t]+)?\b(?:rue|avenue|boulevard|bd|chemin|impasse|allée|place|route|quai|"
    r"cours|square|voie|passage|rond-point)[ \t]+(?:(?:de|du|des|la|le|d'|l')[ \t]*)?[A-ZÀ-Ý][^\n,]{1,40}"
    r"|\b(?:Via|Viale|Piazza|Piazzale|Corso|Vicolo|Contrada|Borgo|Strada|Largo|Calle|C\.|Avenida|Av\.|Paseo|"
    r"Plaza|Ronda|Camino|Carretera|Travesía|Rua|Cañada|Callejón|Vía|Urbanización|Pasaje|Alameda|Glorieta|"
    r"Rambla|Cuesta|Acceso|Pasadizo|Vial|Lugar|Paseo)[ \t]+"
    r"(?:[\w'.-]+[ \t]+){0,4}?[\w'.-]+,?[ \t]+\d{1,4}(?:[ \t]+(?:Piso|Puerta|Apt\.?|Piano|Interno)[ \t]+\w+)*"
    r"|\b[A-ZÄÖÜ][\w'äöüß-]{2,}(?:straße|strasse|str\.|weg|gasse|allee|platz|damm|ufer|chaussee|"
    r"straat|laan|plein|baan|singel|gracht|kade|dijk|steeg|dreef|markt|pad|-Ring|-Allee|-Straße|-Weg|-Platz|"
    r"-Gasse)(?:[ \t]+\d{1,4}"
    r"(?:[-/]?\d{1,4})?[a-zA-Z]?)\b"
)
PLACEHOLDER = re.compile(r"\[([A-Z][A-Z_]*)_(\d+)\]")
REQUESTER_PLACEHOLDER = "[REQUESTER]"


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
    if not 15 <= len(compact) <= 34 or not compact[:2].isalpha() or not compact[2:4].isdigit():
        return False
    if sum(ch.isdigit() for ch in compact[4:]) * 2 < len(compact) - 4:  # account numbers are mostly digits
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def card_layout_valid(value: str) -> bool:
    """Card numbers are printed in one block or in groups of four (Amex and Diners: 4-6-5 and 4-6-4)."""
    groups = re.split(r"[ -]", value)
    if len(groups) == 1:
        return True
    if len({ch for ch in value if not ch.isdigit()}) > 1:  # "4111 1111-1111 1111" is not how cards are written
        return False
    sizes = [len(g) for g in groups]
    return sizes in ([4, 6, 5], [4, 6, 4]) or (all(s == 4 for s in sizes[:-1]) and 1 <= sizes[-1] <= 4)


def fr_nir_valid(value: str) -> bool:
    compact = value.replace(" ", "").upper()
    body = compact[:13].replace("2A", "19").replace("2B", "18")  # Corsican departments, as the key counts them
    return body.isdigit() and 97 - int(body) % 97 == int(compact[13:])


def nl_bsn_valid(digits: str) -> bool:
    weights = [9, 8, 7, 6, 5, 4, 3, 2, -1]
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 == 0 and digits != "0" * 9


_CF_ODD = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23]


def it_fiscal_code_valid(value: str) -> bool:
    """The Italian codice fiscale's control letter: odd and even positions weighted differently, mod 26."""
    code = value.upper()
    total = 0
    for i, ch in enumerate(code[:15]):
        n = int(ch) if ch.isdigit() else ord(ch) - ord("A")
        total += _CF_ODD[n] if i % 2 == 0 else n
    return chr(ord("A") + total % 26) == code[15]


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int
    value: str


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _is_date(number: str) -> bool:
    """2025-11-03, 03/11/2025, 11.3.25: three groups that read as a calendar date (and nothing more)."""
    parts = re.split(r"[-./]", number.strip())
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return False
    a, b, c = (int(p) for p in parts)
    if len(parts[0]) == 4:
        return 1 <= b <= 12 and 1 <= c <= 31
    return len(parts[2]) in (2, 4) and ((1 <= a <= 31 and 1 <= b <= 12) or (1 <= a <= 12 and 1 <= b <= 31))


def _is_phone(text: str, start: int, end: int) -> bool:
    """Whether the digit run text[start:end] is a phone number, by its shape and the words around it."""
    value = text[start:end]
    number = _EXTENSION.sub("", value)
    digits = _digits(number)
    if not 7 <= len(digits) <= 15 or _is_date(number):
        return False
    groups = [g for g in re.split(r"[ \t./()-]+", number) if g]
    before = text[max(0, start - 40):start]
    if _CODE_TAIL.search(before) and not _PHONE_WORD_BEFORE.search(before):
        return False  # "FR 40 812 554 901", "1Z 999 AA1 01 2345 6784": the tail of a longer code
    if number.startswith("+") or "(" in number or (number.startswith("00") and len(digits) >= 10):
        return True
    if _ID_WORDS.search(before):
        return False
    if _PHONE_WORDS.search(before) or _PHONE_AFTER.match(text[end:end + 12]):
        return True
    if _THOUSANDS.match(number):  # "1 200 000" or "1.200.000" with no phone word near: an amount
        return False
    if "." in number and len(groups) < 3:  # a decimal number, not a phone
        return False
    if len(groups) >= 3 and len(digits) >= 9:
        return True
    # Two groups: a national number with its trunk zero ("0306 9990023"), or a US local number ("555-0163").
    return len(groups) == 2 and ((number.startswith("0") and len(digits) >= 9)
                                 or re.fullmatch(r"\d{3}-\d{4}", number) is not None)


def _iban_findings(text: str) -> Iterator[Finding]:
    for m in IBAN.finditer(text):
        # The pattern can run on into a following word ("... 5738 to"): drop trailing groups until it checks.
        value = m.group(0)
        while len(value.replace(" ", "")) >= 15:
            if iban_valid(value):
                yield Finding("IBAN", m.start(), m.start() + len(value), value)
                break
            value = value.rsplit(" ", 1)[0] if " " in value else value[:-1]


def _card_prefix(digits: str) -> bool:
    """Payment cards start with 2-6 (Visa, Mastercard, Amex, Discover, JCB, Diners, Maestro), plus the old
    JCB ranges 1800 and 2131 and Maestro's 0604; 1, 7, 8 and 9 are airline, fuel, health and national cards."""
    return digits[0] in "23456" or digits.startswith(("1800", "0604"))


def _card_findings(text: str) -> Iterator[Finding]:
    for m in CARD.finditer(text):
        value = m.group(0)
        digits = _digits(value)
        # Maestro numbers start at 12 digits.
        if 12 <= len(digits) <= 19 and _card_prefix(digits) and card_layout_valid(value) and luhn_valid(digits):
            yield Finding("CARD", m.start(), m.end(), value)


def _national_id_findings(text: str) -> Iterator[Finding]:
    for m in US_SSN.finditer(text):
        yield Finding("US_SSN", m.start(), m.end(), m.group(0))
    for m in UK_NINO.finditer(text):
        yield Finding("UK_NINO", m.start(), m.end(), m.group(0))
    for m in IT_FISCAL_CODE.finditer(text):
        if it_fiscal_code_valid(m.group(0)):
            yield Finding("IT_FISCAL_CODE", m.start(), m.end(), m.group(0))
    for m in FR_NIR.finditer(text):
        if fr_nir_valid(m.group(0)):
            yield Finding("FR_NIR", m.start(), m.end(), m.group(0))
    for m in NL_BSN.finditer(text):
        if nl_bsn_valid(m.group(1)):
            yield Finding("NL_BSN", m.start(1), m.end(1), m.group(1))


def _ip_findings(text: str) -> Iterator[Finding]:
    for m in IPV4.finditer(text):
        if all(int(part) <= 255 for part in m.group(0).split(".")):
            yield Finding("IP", m.start(), m.end(), m.group(0))
    for m in IPV6.finditer(text):
        try:
            ipaddress.IPv6Address(m.group(0))
        except ValueError:
            continue
        yield Finding("IP", m.start(), m.end(), m.group(0))


def find_pii(text: str) -> list[Finding]:
    """Every identifier in the text; where two overlap, the more specific kind (checked first) wins."""
    found: list[Finding] = [Finding("EMAIL", m.start(), m.end(), m.group(0)) for m in EMAIL.finditer(text)]
    found += _iban_findings(text)
    found += _national_id_findings(text)  # checksummed ids before cards: a French NIR can pass Luhn too
    found += _card_findings(text)
    found += _ip_findings(text)
    found += [Finding("PHONE", m.start(), m.end(), m.group(0)) for m in PHONE_RUN.finditer(text)
              if _is_phone(text, m.start(), m.end())]
    found += [Finding("ADDRESS", m.start(), m.end(), m.group(0).rstrip(" \t,")) for m in STREET.finditer(text)]
    kept: list[Finding] = []
    for f in found:
        if all(f.end <= k.start or f.start >= k.end for k in kept):
            kept.append(f)
    return sorted(kept, key=lambda f: f.start)


def normalise(kind: str, value: str) -> str:
    """The form under which two spellings of one value are the same value ("Jo@X.example" = "jo@x.example")."""
    if kind == "EMAIL":
        return value.strip().lower()
    if kind in ("IP", "ADDRESS"):
        return value.strip().lower()
    return re.sub(r"[^0-9A-Za-z]", "", value).upper()


@dataclass(frozen=True)
class Redaction:
    text: str
    """The text with every finding replaced by a typed placeholder."""
    findings: list[Finding] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)
    """Placeholder -> the value as first written. Raw PII: it belongs in the PII store, nowhere else."""
    labels: list[str] = field(default_factory=list)
    """The placeholder each finding was replaced with (same order as `findings`)."""

    @property
    def counts(self) -> dict[str, int]:
        """How many values of each kind were found (safe to log: no values)."""
        return dict(Counter(f.kind for f in self.findings))


def redact(text: str) -> Redaction:
    """Replace each identifier with [KIND_n]; the same value gets the same placeholder."""
    findings = find_pii(text)
    numbering: dict[tuple[str, str], str] = {}
    mapping: dict[str, str] = {}
    per_kind: Counter[str] = Counter()
    out, labels, last = [], [], 0
    for f in findings:
        key = (f.kind, normalise(f.kind, f.value))
        if key not in numbering:
            per_kind[f.kind] += 1
            numbering[key] = f"[{f.kind}_{per_kind[f.kind]}]"
            mapping[numbering[key]] = f.value
        labels.append(numbering[key])
        out.append(text[last:f.start])
        out.append(numbering[key])
        last = f.end
    out.append(text[last:])
    return Redaction(text="".join(out), findings=findings, mapping=mapping, labels=labels)


@dataclass(frozen=True)
class TicketRedaction:
    """A ticket's subject and body redacted together (one numbering), and who the requester is among them."""

    subject: str
    text: str
    requester: str | None
    """The requester's placeholder: theirs in the text ("[EMAIL_1]"), else [REQUESTER]; None without one."""
    mapping: dict[str, str]
    counts: dict[str, int]


def stored_text(subject: str, text: str) -> str:
    """How a ticket's subject and body are kept as one text (the PII store's form)."""
    return f"{subject}\n{text}" if subject else text


def redact_ticket(subject: str, text: str, requester: str | None) -> TicketRedaction:
    """Redact the subject and body as the one text the PII store keeps, so that the store can rebuild the
    same placeholders from what it holds (`redact_ticket("", stored, requester)` gives the same mapping)."""
    joined = stored_text(subject, text)
    result = redact(joined)
    boundary = len(subject) if subject else -1
    shift = sum(len(label) - (f.end - f.start) for f, label in zip(result.findings, result.labels, strict=True)
                if f.end <= boundary)
    # No detector matches across a line break, so the subject's findings end before the newline after it.
    red_subject = result.text[:boundary + shift] if subject else ""
    red_text = result.text[boundary + shift + 1:] if subject else result.text
    mapping = dict(result.mapping)
    placeholder: str | None = None
    if requester:
        placeholder = requester_placeholder(mapping, requester)
        if placeholder is None:
            placeholder = REQUESTER_PLACEHOLDER
            mapping[placeholder] = requester
    return TicketRedaction(red_subject, red_text, placeholder, mapping, result.counts)


def requester_placeholder(mapping: Mapping[str, str], requester: str) -> str | None:
    """The placeholder whose value is the requester's own address (or number), if the text holds it."""
    for placeholder, value in mapping.items():
        match = PLACEHOLDER.fullmatch(placeholder)
        kind = match.group(1) if match else None
        if kind and normalise(kind, value) == normalise(kind, requester):
            return placeholder
    return None


def fill_requester(reply: str, mapping: Mapping[str, str], requester: str | None) -> str:
    """Put the requester's own values back into an approved reply; every other placeholder stays redacted.

    Run at delivery time only: what is filled in here goes to the requester, who wrote it."""
    if not requester:
        return reply
    for placeholder in (REQUESTER_PLACEHOLDER, requester_placeholder(mapping, requester)):
        if placeholder is not None and placeholder in mapping:
            reply = reply.replace(placeholder, mapping[placeholder])
    return reply
