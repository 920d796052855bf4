"""Choosing per-category thresholds from out-of-fold predictions, and writing them into pack.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.pack import load_manifest
from eval.calibrate import NEVER, HeldOut, apply, choose_thresholds, fewest_for_bound
from eval.pack_yaml import DEMOTED_MARK, PackEditError, demoted_categories, set_autonomy, set_thresholds
from tests.conftest import TINY_YAML


def held_out(category: str, confidences: list[float], wrong_at: tuple[float, ...] = (), fold: int = 0) -> list[HeldOut]:
    """Eligible predictions of `category`; those whose confidence is in `wrong_at` carry another label."""
    return [HeldOut(label="other" if c in wrong_at else category, fold=fold, category=category, confidence=c,
                    eligible=True, rejected=False) for c in confidences]


def spread(n: int, top: float = 0.999, bottom: float = 0.6) -> list[float]:
    return [round(top - (top - bottom) * i / (n - 1), 4) for i in range(n)]


def test_a_clean_category_gets_a_threshold_and_a_sloppy_one_stays_propose() -> None:
    clean = held_out("a", spread(300))
    # b is wrong on a third of its tickets at every confidence: it can never reach 0.98 on its own.
    b_conf = spread(90)
    sloppy = held_out("b", b_conf, wrong_at=tuple(b_conf[::3]))
    thresholds = choose_thresholds(clean + sloppy, ["a", "b"], target=0.98)
    assert thresholds["b"] == NEVER
    assert thresholds["a"] < NEVER
    outcome = apply(clean + sloppy, thresholds)
    assert outcome.automated >= 190 and outcome.right == outcome.automated


def test_the_threshold_stops_above_the_first_cluster_of_mistakes() -> None:
    conf = spread(400)
    mistakes = tuple(c for c in conf if c < 0.75)  # everything below 0.75 is wrong
    thresholds = choose_thresholds(held_out("a", conf, wrong_at=mistakes), ["a"], target=0.98)
    assert 0.74 < thresholds["a"] <= 0.8


def test_too_few_tickets_cannot_prove_the_target() -> None:
    preds = held_out("a", spread(100))  # all right, but 100 < the 188 a 0.98 lower bound needs
    assert fewest_for_bound(0.98) == 188
    assert choose_thresholds(preds, ["a"], target=0.98) == {"a": NEVER}
    assert choose_thresholds(preds, ["a"], target=0.95)["a"] < NEVER


def test_the_floor_keeps_thresholds_above_a_coin_flip() -> None:
    preds = held_out("a", spread(300, bottom=0.2))
    assert choose_thresholds(preds, ["a"], target=0.9, floor=0.5)["a"] >= 0.5


YAML_WITH_COMMENTS = TINY_YAML.replace("policy:\n", "policy:\n  # the owner asked for caution\n").replace(
    "  default_threshold: 0.4\n", "  default_threshold: 0.4   # keep\n  thresholds: {}\n")


def test_thresholds_are_written_keeping_every_comment(tmp_path: Path) -> None:
    path = tmp_path / "pack.yaml"
    text = set_thresholds(path, YAML_WITH_COMMENTS, {"password_reset": 0.8123}, "triage calibrate test note")
    assert "# the owner asked for caution" in text and "default_threshold: 0.4   # keep" in text
    assert "# triage calibrate test note" in text
    path.write_text(text)
    assert dict(load_manifest(path).policy.thresholds) == {"password_reset": 0.8123}
    # A second run replaces the block and its note instead of stacking them.
    again = set_thresholds(path, text, {"password_reset": 0.9, "billing": 0.7}, "triage calibrate second")
    assert again.count("thresholds:") == 1 and "test note" not in again
    path.write_text(again)
    assert dict(load_manifest(path).policy.thresholds) == {"password_reset": 0.9, "billing": 0.7}


def test_a_pack_without_thresholds_or_policy_gets_them(tmp_path: Path) -> None:
    path = tmp_path / "pack.yaml"
    for source in (TINY_YAML, "name: x\ncategories:\n  - name: a\n"):
        path.write_text(set_thresholds(path, source, {"a" if "name: a" in source else "billing": 0.75}, "triage"
                                       " calibrate"))
        assert list(load_manifest(path).policy.thresholds.values()) == [0.75]


def test_a_flow_style_policy_is_refused_with_advice(tmp_path: Path) -> None:
    with pytest.raises(PackEditError, match="flow mapping"):
        set_thresholds(tmp_path / "pack.yaml", "name: x\ncategories: [{name: a}]\npolicy: {human_queue: q}\n",
                       {"a": 0.7}, "triage calibrate")


def test_demotion_is_marked_and_can_be_undone(tmp_path: Path) -> None:
    path = tmp_path / "pack.yaml"
    demoted = set_autonomy(path, TINY_YAML, {"password_reset": "propose"})
    assert DEMOTED_MARK in demoted and demoted_categories(demoted) == {"password_reset"}
    path.write_text(demoted)
    assert load_manifest(path).categories[0].autonomy == "propose"
    restored = set_autonomy(path, demoted, {"password_reset": "auto"})
    assert restored == TINY_YAML
