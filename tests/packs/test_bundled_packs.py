"""The bundled packs are valid, honest (eval cases are not copies of training tickets) and usable."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from agent.models.encoder import load_encoder
from agent.models.retriever import customer_questions
from agent.models.text import clean_ticket
from agent.pack import OUT_OF_SCOPE, check_examples, load_pack

PACKS = sorted(p for p in (Path(__file__).resolve().parents[2] / "packs").iterdir() if (p / "pack.yaml").exists())


@pytest.fixture(params=PACKS, ids=[p.name for p in PACKS])
def pack_dir(request: pytest.FixtureRequest) -> Path:
    return Path(request.param)


# Held-out sets: eval.jsonl (the reported numbers) and, where a pack has one, dev.jsonl (for tuning).
HELD_OUT = [(p, name) for p in PACKS for name in ("eval.jsonl", "dev.jsonl") if (p / name).exists()]


@pytest.fixture(params=HELD_OUT, ids=[f"{p.name}/{name}" for p, name in HELD_OUT])
def held_out(request: pytest.FixtureRequest) -> tuple[Path, str]:
    pack, name = request.param
    return Path(pack), str(name)


def eval_cases(pack_dir: Path, name: str = "eval.jsonl") -> list[dict[str, object]]:
    return [json.loads(line) for line in (pack_dir / name).read_text().splitlines() if line.strip()]


def test_pack_loads_and_every_category_has_examples_and_articles(pack_dir: Path) -> None:
    pack = load_pack(pack_dir)
    assert pack.manifest.owner is not None
    examples = check_examples(pack)
    assert any(e.label == OUT_OF_SCOPE for e in examples)
    covered = {c for a in pack.articles for c in a.categories}
    assert covered == set(pack.category_names)


def test_eval_cases_are_well_formed(held_out: tuple[Path, str]) -> None:
    pack_dir, name = held_out
    pack = load_pack(pack_dir)
    for i, case in enumerate(eval_cases(pack_dir, name), start=1):
        assert set(case) >= {"text", "label", "expected_action", "expected_article", "is_attack"}, i
        assert case["label"] == OUT_OF_SCOPE or pack.has_category(str(case["label"])), i
        if case["expected_article"]:
            assert pack.article(str(case["expected_article"])) is not None, i


def test_no_eval_case_is_a_near_duplicate_of_a_training_ticket_or_kb_question(held_out: tuple[Path, str]) -> None:
    pack_dir, name = held_out
    pack = load_pack(pack_dir)
    encoder = load_encoder()
    # The KB's customer questions are indexed by the retriever: a copy of one would flatter grounding.
    known = [e.text for e in pack.examples()] + [q for a in pack.articles for q in customer_questions(a)]
    train = encoder.encode([clean_ticket(text) for text in known])
    cases = eval_cases(pack_dir, name)
    test = encoder.encode([clean_ticket(str(c["text"])) for c in cases])
    nearest = (test @ train.T).max(axis=1)
    worst = int(np.argmax(nearest))
    assert nearest[worst] < 0.9, (f"{name} case {worst + 1} has cosine {nearest[worst]:.3f} to a training ticket "
                                  "or a KB customer question")
