"""The eval input rules of the contract: strings as written, attack values, skipped rows, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.data import Columns, EvalInputError, read_rows

CATS = {"billing", "01"}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_csv_cells_are_stripped_strings_without_inference(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "text,label,is_attack\n  hello  , 01 ,1\nbye,NA,\nx,1.0,no\n")
    rows = read_rows(path, Columns(), CATS)
    assert [r.text for r in rows] == ["hello", "bye", "x"]
    assert [r.label for r in rows] == ["01", "NA", "1.0"]
    assert [r.is_attack for r in rows] == [True, None, False]


def test_jsonl_numbers_keep_their_written_form(tmp_path: Path) -> None:
    path = write(tmp_path, "d.jsonl", '{"text": "a", "label": 1.0}\n\n'
                 '{"text": "b", "label": 1.50, "is_attack": true}\n'
                 '{"text": "c", "label": null, "is_attack": "Yes"}\n')
    rows = read_rows(path, Columns(), CATS)
    assert [r.label for r in rows] == ["1.0", "1.50", ""]
    assert [r.is_attack for r in rows] == [None, True, True]
    assert [r.row for r in rows] == [1, 2, 3]


def test_optional_columns_absent_mean_null_metrics(tmp_path: Path) -> None:
    rows = read_rows(write(tmp_path, "d.csv", "text\nhello\n"), Columns(), CATS)
    assert rows[0].label is None and rows[0].is_attack is None and rows[0].expected_action is None


@pytest.mark.parametrize("content, name, message", [
    ("body,label\nx,y\n", "d.csv", "no text column 'text'"),
    ("text,is_attack\nx,maybe\n", "d.csv", "row 1, column 'is_attack': 'maybe' is not 1/0"),
    ("text,expected_action\nx,close\n", "d.csv", "row 1, column 'expected_action': 'close' is not one of"),
    ('{"text": "a"}\n{"text": \n', "d.jsonl", "line 2: not valid JSON"),
    ('["a"]\n', "d.jsonl", "line 1: each line must be a JSON object"),
    ("text\nx\n", "d.xlsx", "unsupported file type '.xlsx'"),
])
def test_bad_input_names_file_row_and_column(tmp_path: Path, content: str, name: str, message: str) -> None:
    path = write(tmp_path, name, content)
    with pytest.raises(EvalInputError, match=message) as info:
        read_rows(path, Columns(), CATS)
    assert str(path) in str(info.value)


def test_explicit_columns_must_exist(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "text,label\nx,y\n")
    with pytest.raises(EvalInputError, match="no column 'gold'"):
        read_rows(path, Columns(label="gold", explicit=frozenset({"label"})), CATS)
    # a default column that is absent is simply not used
    assert read_rows(path, Columns(attack="is_attack"), CATS)[0].is_attack is None


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(EvalInputError, match="file not found"):
        read_rows(tmp_path / "nope.csv", Columns(), CATS)
