"""`python -m eval.pii_bench`: how much PII the redactor catches, on realistic sentences with exact spans.

The sentences are presidio-research's MIT templates ("My card {{credit_card_number}} has been lost")
filled with Faker values in several locales (seeded, so every run measures the same set). Faker is
used instead of the dataset's own filled sentences because those carry share-alike values. For each
kind we report:

- recall: gold values wholly hidden by a finding of the same kind ("redacted as a card"); for addresses,
  those an ADDRESS finding covers part of (the street line: postcode and town lines are left);
- hidden: gold values wholly hidden by any finding (what privacy needs: the value does not get through);
  for addresses, the average share of their letters and digits hidden;
- precision: findings of the kind that overlap a gold value of that kind.

Structured kinds (email, phone, card, IBAN, IP, US SSN) are held to `--min-recall`; other national ids
(Italian fiscal code, French NIR, Dutch BSN, from `{{ssn}}` in those locales) and addresses are reported
as far as they go. A second table runs the detector over the bundled packs'
ordinary tickets (which hold order numbers, invoice ids, versions, dates and amounts) and lists what it
redacts there, so a precision loss on real ticket text shows up next to the recall gain. Exit 0 when
every structured kind reaches the target, 1 when one misses it (named), 2 when the templates are absent.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guardrails.pii import Finding, find_pii

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TEMPLATES = ROOT.parent / "shared" / "datasets" / "presidio_synth_pii" / "templates.txt"
LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL")
STRUCTURED = ("EMAIL", "PHONE", "CARD", "IBAN", "IP", "US_SSN")

# Template placeholder -> the kind the redactor should give it. Address parts count as ADDRESS when a
# finding covers them, but only `{{address}}` (a whole address) is scored for recall.
GOLD_KIND = {"email": "EMAIL", "phone_number": "PHONE", "credit_card_number": "CARD", "iban": "IBAN",
             "ip_address": "IP", "ssn": "US_SSN", "address": "ADDRESS"}
ADDRESS_PARTS = {"building_number", "street_name", "secondary_address", "postcode", "zipcode", "city",
                 "state_abbr"}
# `{{ssn}}` in these locales is their national id; in the others a US social security number.
NATIONAL_ID = {"it_IT": "IT_FISCAL_CODE", "fr_FR": "FR_NIR", "nl_NL": "NL_BSN"}
# Placeholders Faker has no provider of that name for.
DEMONYMS = ("German", "French", "Italian", "Mexican", "Japanese", "Indian", "Brazilian", "Nigerian")
_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


@dataclass(frozen=True)
class Span:
    kind: str
    start: int
    end: int
    value: str


@dataclass(frozen=True)
class Sample:
    text: str
    spans: list[Span]
    locale: str


def _faker_factory() -> Callable[[str], Any]:
    try:
        from faker import Faker
    except ImportError:
        sys.exit("pii_bench needs Faker (a dev dependency): .venv/bin/pip install faker")
    fakers = {loc: Faker(loc) for loc in LOCALES}
    for i, fake in enumerate(fakers.values()):
        fake.seed_instance(1000 + i)
    return lambda loc: fakers[loc]


def _card(fake: Any, rng: random.Random) -> str:
    """A Faker card number, written as people write it: one block, or groups of four (spaces or dashes)."""
    digits = str(fake.credit_card_number())
    style = rng.choice(("", " ", "-"))
    if not style:
        return digits
    return style.join(digits[i:i + 4] for i in range(0, len(digits), 4))


def fill(name: str, locale: str, fakers: Callable[[str], Any], rng: random.Random) -> str:
    """A Faker value for one placeholder, in the locale when Faker has the provider there."""
    fake = fakers(locale)
    if name == "credit_card_number":
        return _card(fake, rng)
    if name == "ip_address":
        return str(fake.ipv4() if rng.random() < 0.7 else fake.ipv6())
    if name == "ssn":  # the locale's national id where we detect it (Faker's en_GB ones are not valid NINOs)
        return str((fake if locale in NATIONAL_ID else fakers("en_US")).ssn())
    if name == "iban":
        value = str(fake.iban())
        # Printed IBANs come in groups of four as often as in one block.
        return " ".join(value[i:i + 4] for i in range(0, len(value), 4)) if rng.random() < 0.5 else value
    if name in ("nationality", "nation_woman", "nation_plural"):
        return rng.choice(DEMONYMS)
    if name == "age":
        return str(rng.randint(18, 90))
    alias = {"person": "name", "organization": "company", "us_driver_license": "bothify"}.get(name, name)
    for source in (fake, fakers("en_US")):
        provider = getattr(source, alias, None)
        if callable(provider):
            return str(provider("?#######") if alias == "bothify" else provider())
    raise ValueError(f"templates.txt: no Faker provider for placeholder '{{{{{name}}}}}'")


def read_templates(path: Path) -> list[str]:
    """The template lines, with their written-out escapes (\\n, \\,) turned into what they stand for."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return [line.replace("\\n", "\n").replace("\\,", ",") for line in lines if line.strip()]


def generate(templates: list[str], rounds: int, seed: int) -> Iterator[Sample]:
    """Every template with placeholders, filled `rounds` times, each time in a locale picked at random."""
    rng = random.Random(seed)
    fakers = _faker_factory()
    for template in templates:
        if not _PLACEHOLDER.search(template):
            continue
        for _ in range(rounds):
            locale = rng.choice(LOCALES)
            parts: list[str] = []
            spans: list[Span] = []
            last = 0
            for match in _PLACEHOLDER.finditer(template):
                parts.append(template[last:match.start()])
                start = sum(len(p) for p in parts)
                value = fill(match.group(1), locale, fakers, rng)
                parts.append(value)
                name = match.group(1)
                kind = GOLD_KIND.get(name) or ("ADDRESS_PART" if name in ADDRESS_PARTS else None)
                if name == "ssn":
                    kind = NATIONAL_ID.get(locale, "US_SSN")
                if kind:
                    spans.append(Span(kind, start, start + len(value), value))
                last = match.end()
            parts.append(template[last:])
            yield Sample("".join(parts), spans, locale)


def _hidden(span: Span, findings: list[Finding], kind: str | None) -> bool:
    """Whether every letter and digit of the gold value lies inside a finding (of `kind`, if given)."""
    covered = [f for f in findings if kind is None or f.kind == kind]
    for i in range(span.start, span.end):
        if span.value[i - span.start].isalnum() and not any(f.start <= i < f.end for f in covered):
            return False
    return True


def _covered_share(span: Span, findings: list[Finding]) -> float:
    """The share of a gold value's letters and digits that lie inside some finding."""
    alnum = [i for i in range(span.start, span.end) if span.value[i - span.start].isalnum()]
    return sum(any(f.start <= i < f.end for f in findings) for i in alnum) / max(len(alnum), 1)


def _overlaps(span: Span, findings: list[Finding]) -> bool:
    """An address counts as found when an ADDRESS finding covers part of it (the street line, usually)."""
    return any(f.kind == "ADDRESS" and f.start < span.end and span.start < f.end for f in findings)


def score(samples: list[Sample]) -> dict[str, dict[str, Any]]:
    """Per kind: gold count, recall, hidden share, precision, and a few misses to look at."""
    stats: dict[str, dict[str, float]] = {}  # counts (and, for addresses, summed covered shares)
    misses: dict[str, list[str]] = {}
    false_hits: dict[str, list[str]] = {}
    for sample in samples:
        findings = find_pii(sample.text)
        for span in sample.spans:
            if span.kind == "ADDRESS_PART":
                continue
            s = stats.setdefault(span.kind, dict.fromkeys(("gold", "found", "hidden", "predicted", "correct"), 0.0))
            address = span.kind == "ADDRESS"
            found = _overlaps(span, findings) if address else _hidden(span, findings, span.kind)
            s["gold"] += 1
            s["found"] += found
            s["hidden"] += _covered_share(span, findings) if address else _hidden(span, findings, None)
            if not found:
                misses.setdefault(span.kind, []).append(f"{sample.locale}: {span.value!r}")
        for f in findings:
            s = stats.setdefault(f.kind, dict.fromkeys(("gold", "found", "hidden", "predicted", "correct"), 0.0))
            s["predicted"] += 1
            right = any(f.start < g.end and g.start < f.end and
                        (g.kind == f.kind or (f.kind == "ADDRESS" and g.kind == "ADDRESS_PART"))
                        for g in sample.spans)
            s["correct"] += right
            if not right:
                false_hits.setdefault(f.kind, []).append(f"{f.value!r} in {sample.text[:80]!r}")
    report: dict[str, dict[str, Any]] = {}
    for kind, s in sorted(stats.items()):
        report[kind] = {
            "gold": int(s["gold"]),
            "recall": round(s["found"] / s["gold"], 4) if s["gold"] else None,
            "hidden": round(s["hidden"] / s["gold"], 4) if s["gold"] else None,
            "predicted": int(s["predicted"]),
            "precision": round(s["correct"] / s["predicted"], 4) if s["predicted"] else None,
            "misses": misses.get(kind, [])[:8],
            "false_hits": false_hits.get(kind, [])[:8],
        }
    return report


def pack_ticket_texts(packs_dir: Path) -> list[str]:
    """Every ticket text of the bundled packs (training examples, eval set, samples)."""
    texts: list[str] = []
    for path in sorted(packs_dir.glob("*/examples.csv")):
        with path.open(newline="", encoding="utf-8") as f:
            texts += [row["text"] for row in csv.DictReader(f)]
    for path in sorted(packs_dir.glob("*/*.jsonl")):
        texts += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return texts


def per_ticket_cost_us(texts: list[str], repeat: int = 3) -> float:
    """Mean time of one `find_pii` call per ticket, best of `repeat` passes (microseconds)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for text in texts:
            find_pii(text)
        best = min(best, time.perf_counter() - started)
    return best / max(len(texts), 1) * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--templates", type=Path, default=DEFAULT_TEMPLATES, help="presidio templates.txt")
    parser.add_argument("--rounds", type=int, default=25, help="fillings per template (default 25)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--min-recall", type=float, default=0.95, help="target for every structured kind")
    parser.add_argument("--packs", type=Path, default=ROOT / "packs", help="packs whose tickets are scanned")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    parser.add_argument("--show", action="store_true", help="print misses and false hits")
    args = parser.parse_args(argv)
    if not args.templates.is_file():
        print(f"pii_bench: {args.templates} not found: the presidio templates are a development dataset "
              "(../shared/datasets/presidio_synth_pii); pass --templates PATH", file=sys.stderr)
        return 2
    samples = list(generate(read_templates(args.templates), args.rounds, args.seed))
    report = score(samples)
    print(f"PII redaction on {len(samples)} filled templates ({', '.join(LOCALES)}; seed {args.seed}):")
    print(f"{'kind':<15} {'gold':>6} {'recall':>8} {'hidden':>8} {'found':>7} {'precision':>10}")
    for kind, r in report.items():
        cells = [f"{r[k]:.3f}" if r[k] is not None else "-" for k in ("recall", "hidden", "precision")]
        print(f"{kind:<15} {r['gold']:>6} {cells[0]:>8} {cells[1]:>8} {r['predicted']:>7} {cells[2]:>10}")
        if args.show:
            for line in r["misses"]:
                print(f"    missed  {line}")
            for line in r["false_hits"]:
                print(f"    false   {line}")
    tickets = pack_ticket_texts(args.packs)
    on_tickets = Counter(f.kind for text in tickets for f in find_pii(text))
    print(f"\nFindings on the {len(tickets)} ticket texts of {args.packs}: {dict(sorted(on_tickets.items()))}")
    cost = per_ticket_cost_us(tickets)
    print(f"find_pii per ticket (mean over those tickets, {sum(map(len, tickets)) // max(len(tickets), 1)} "
          f"chars on average): {cost:.0f} us")
    missed = [k for k in STRUCTURED if k in report and (report[k]["recall"] or 0) < args.min_recall]
    if args.json:
        args.json.write_text(json.dumps({"samples": len(samples), "kinds": report, "ticket_findings": on_tickets,
                                         "per_ticket_us": round(cost, 1)}, indent=2))
    if missed:
        print(f"\nrecall below {args.min_recall} for: {', '.join(missed)}")
        return 1
    print(f"\nevery structured kind ({', '.join(STRUCTURED)}) has recall >= {args.min_recall}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
