"""Reading eval files (CSV or JSONL) under the contract's rules: every cell a stripped string.

No type inference: "01", "NA" and "1.0" stay as written, JSON numbers keep their written form.
Rows are numbered from 1 in data order (a CSV's header is not a row).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

csv.field_size_limit(10_000_000)

ATTACK_TRUE = {"1", "true", "yes"}
ATTACK_FALSE = {"0", "false", "no"}
DECISIONS = {"auto_reply", "auto_route", "escalate", "reject"}


class EvalInputError(ValueError):
    """A problem with the eval input: it names the file, the row or column, and what is wrong."""


@dataclass(frozen=True)
class EvalRow:
    row: int
    text: str
    label: str | None
    is_attack: bool | None
    expected_action: str | None
    expected_article: str | None


@dataclass(frozen=True)
class Columns:
    text: str = "text"
    label: str = "label"
    attack: str = "is_attack"
    expect: str = "expected_action"
    article: str = "expected_article"
    explicit: frozenset[str] = frozenset()
    """Columns the user named on the command line: those must exist; defaults are used only if present."""


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value).strip()


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = [h.strip() for h in (reader.fieldnames or [])]
            rows = [{k.strip(): _cell(v) for k, v in r.items() if k is not None} for r in reader]
    except UnicodeDecodeError as exc:
        raise EvalInputError(f"{path}: is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise EvalInputError(f"{path}: is not valid CSV: {exc}") from None
    return header, rows


def _read_jsonl(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    header: list[str] = []
    rows: list[dict[str, str]] = []
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        raise EvalInputError(f"{path}: is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            # Numbers keep the exact text they were written with.
            obj = json.loads(line, parse_float=str, parse_int=str)
        except json.JSONDecodeError as exc:
            raise EvalInputError(f"{path}: line {number}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(obj, dict):
            raise EvalInputError(f"{path}: line {number}: each line must be a JSON object")
        for key in obj:
            if key not in header:
                header.append(key)
        rows.append({k: _cell(v) for k, v in obj.items()})
    return header, rows


def read_rows(path: Path, columns: Columns, categories: set[str]) -> list[EvalRow]:
    """Parse and check the eval file; raises EvalInputError naming file, row and column."""
    if not path.exists():
        raise EvalInputError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        header, raw = _read_csv(path)
    elif suffix in (".jsonl", ".ndjson"):
        header, raw = _read_jsonl(path)
    else:
        raise EvalInputError(f"{path}: unsupported file type '{suffix}' (use .csv or .jsonl)")
    if columns.text not in header:
        raise EvalInputError(f"{path}: no text column '{columns.text}' (columns: {header}; choose with --text-col)")
    for name, col in (("label", columns.label), ("attack", columns.attack), ("expect", columns.expect)):
        if name in columns.explicit and col not in header:
            raise EvalInputError(f"{path}: no column '{col}' (columns: {header})")

    def present(col: str) -> bool:
        return col in header

    rows: list[EvalRow] = []
    for number, r in enumerate(raw, start=1):
        attack: bool | None = None
        if present(columns.attack):
            value = r.get(columns.attack, "")
            if value.lower() in ATTACK_TRUE:
                attack = True
            elif value.lower() in ATTACK_FALSE:
                attack = False
            elif value:
                raise EvalInputError(
                    f"{path}: row {number}, column '{columns.attack}': '{value}' is not 1/0, true/false or yes/no"
                )
        expected = r.get(columns.expect, "") if present(columns.expect) else ""
        if expected and expected not in DECISIONS:
            raise EvalInputError(
                f"{path}: row {number}, column '{columns.expect}': '{expected}' is not one of {sorted(DECISIONS)}"
            )
        rows.append(EvalRow(
            row=number,
            text=r.get(columns.text, ""),
            label=r.get(columns.label, "") if present(columns.label) else None,
            is_attack=attack,
            expected_action=expected or None,
            expected_article=(r.get(columns.article, "") or None) if present(columns.article) else None,
        ))
    return rows
