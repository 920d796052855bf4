"""The PII benchmark: the structured kinds reach their recall target on the Faker-filled presidio templates."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.pii_bench import DEFAULT_TEMPLATES, STRUCTURED, generate, main, read_templates, score

pytest.importorskip("faker")
needs_templates = pytest.mark.skipif(not DEFAULT_TEMPLATES.is_file(),
                                     reason=f"development dataset absent: {DEFAULT_TEMPLATES}")


@needs_templates
def test_structured_kinds_reach_the_recall_target() -> None:
    samples = list(generate(read_templates(DEFAULT_TEMPLATES), rounds=8, seed=3))
    report = score(samples)
    for kind in ("EMAIL", "PHONE", "CARD", "IBAN", "IP"):
        assert report[kind]["gold"] >= 10, kind
        assert report[kind]["recall"] >= 0.95, (kind, report[kind]["misses"])
        assert report[kind]["precision"] >= 0.95, (kind, report[kind]["false_hits"])
    assert set(STRUCTURED) >= {"EMAIL", "PHONE", "CARD", "IBAN", "IP"}


@needs_templates
def test_the_same_seed_measures_the_same_sentences() -> None:
    templates = read_templates(DEFAULT_TEMPLATES)[:40]
    assert [s.text for s in generate(templates, 2, seed=5)] == [s.text for s in generate(templates, 2, seed=5)]


def test_a_missing_dataset_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--templates", str(tmp_path / "templates.txt")]) == 2
    assert "templates.txt not found" in capsys.readouterr().err
