"""`triage calibrate`: per-category confidence thresholds that meet a target auto-precision.

How the thresholds are chosen:
1. Out-of-fold predictions. The pack's training examples are split into stratified folds; for each
   fold the pack's own classifier is fitted on the other folds and predicts the held-out tickets. Every
   example thus gets a prediction from a model that never saw it.
2. Eligibility. Each prediction goes through the pack's real decision policy (agent.policy) with every
   threshold at 0: a ticket is *eligible* when the policy would act alone on it if it were confident
   enough (in scope, `auto` autonomy, no `never` category among its alternatives, an owner set). Out-of-
   scope rejections, when the policy rejects, count as automated whatever the thresholds.
3. Thresholds. Raising category c's threshold drops its least confident eligible tickets. For a price
   mu on a mistake, each category keeps the prefix (by confidence) that maximises right - mu * wrong,
   among prefixes whose own precision is at least the target. mu then falls from "no mistake at all"
   for as long as the Wilson lower bound (95%) of the pooled auto-precision stays >= the target.
   A category with no such prefix (or no eligible ticket at all) cannot meet the target: it stays
   `propose` (the command sets its autonomy; NEVER marks it here).

Why pooled: a Wilson lower bound of 0.98 needs about 190 right answers without one mistake, more than
most categories have examples. The bound is on the quantity the report and the SLO measure (auto-
precision over all automated tickets); each category must still meet the target on its own tickets.

The numbers are measured on the tickets the thresholds were chosen on, so they flatter. `cross_checked`
re-chooses the thresholds on k-1 folds' predictions and applies them to the remaining fold, for a fairer
estimate; the pack's eval set, written apart, is the real test.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from agent.models.bundle import model_text, split_examples
from agent.models.classifier import IntentClassifier
from agent.models.encoder import TextEncoder
from agent.models.priority import assess_priority
from agent.pack import OUT_OF_SCOPE, Pack, check_examples
from agent.policy import decide_action
from agent.state import Classification
from eval.metrics import wilson_interval

Say = Callable[[str], None]
NEVER = 1.0
"""Marks a category that cannot meet the target (the command sets it to `propose`: a confidence can round
to 1.0, so no threshold alone keeps a category from acting)."""


class CalibrationError(ValueError):
    """The pack cannot be calibrated as asked (too few examples, a bad target)."""


@dataclass(frozen=True)
class HeldOut:
    """One training example predicted by a model that did not see it."""

    label: str
    """Its label: a category or out_of_scope."""
    fold: int
    category: str | None
    """Predicted category; None when flagged out of scope."""
    confidence: float
    eligible: bool
    """The policy would act alone on it if `confidence` cleared the category's threshold."""
    rejected: bool
    """The policy rejects it whatever the thresholds (out of scope, when the pack says reject)."""

    @property
    def right(self) -> bool:
        if self.rejected:
            return self.label == OUT_OF_SCOPE
        return self.category == self.label


def _stratified_folds(labels: list[str], folds: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    assignment = [0] * len(labels)
    for label in sorted(set(labels)):
        idx = [i for i, lab in enumerate(labels) if lab == label]
        rng.shuffle(idx)
        offset = int(rng.integers(folds))
        for position, i in enumerate(idx):
            assignment[i] = (position + offset) % folds
    return assignment


def _policy_probe(pack: Pack) -> Pack:
    """The pack with every threshold at 0, so the policy says whether a ticket could be automated at all."""
    policy = pack.policy.model_copy(update={"default_threshold": 0.0, "thresholds": {}})
    return dataclasses.replace(pack, manifest=pack.manifest.model_copy(update={"policy": policy}))


def out_of_fold_predictions(pack: Pack, encoder: TextEncoder, folds: int = 5, seed: int = 0,
                            say: Say | None = None) -> list[HeldOut]:
    """Predict every training example with the pack's classifier fitted on the other folds."""
    tell = say or (lambda _m: None)
    examples = check_examples(pack)
    in_scope, _negatives = split_examples(examples)
    if len(in_scope) < 2 * folds:
        raise CalibrationError(f"{pack.root / 'examples.csv'}: {len(in_scope)} in-scope examples are too few for "
                               f"{folds} folds (need at least {2 * folds}; use --folds 2 or add examples)")
    texts = [model_text(e.text) for e in examples]
    tell(f"embedding {len(texts)} examples with {encoder.name}")
    vectors = encoder.encode(texts)
    labels = [e.label for e in examples]
    assignment = _stratified_folds(labels, folds, seed)
    probe = _policy_probe(pack)
    held_out: list[HeldOut] = []
    for fold in range(folds):
        started = time.perf_counter()
        train = [i for i, f in enumerate(assignment) if f != fold and labels[i] != OUT_OF_SCOPE]
        negatives = [i for i, f in enumerate(assignment) if f != fold and labels[i] == OUT_OF_SCOPE]
        test = [i for i, f in enumerate(assignment) if f == fold]
        classifier = IntentClassifier.fit(
            [texts[i] for i in train], [labels[i] for i in train], vectors[train],
            oos_texts=[texts[i] for i in negatives], oos_vectors=vectors[negatives] if negatives else None,
        )
        for i in test:
            held_out.append(_judge(probe, classifier, examples[i].text, texts[i], vectors[i], labels[i], fold))
        tell(f"fold {fold + 1}/{folds}: trained on {len(train) + len(negatives)}, predicted {len(test)} "
             f"in {time.perf_counter() - started:.0f} s")
    return held_out


def _judge(probe: Pack, classifier: IntentClassifier, raw: str, text: str, vector: np.ndarray, label: str,
           fold: int) -> HeldOut:
    prediction = classifier.predict(text, vector)
    category = None if prediction.out_of_scope else prediction.label
    # Rounded as the classify node rounds them: thresholds compare against these exact values.
    cls = Classification(
        category=category, confidence=round(prediction.probability, 4),
        alternatives=[(lab, round(p, 4)) for lab, p in prediction.alternatives],
        out_of_scope=prediction.out_of_scope, oos_score=round(prediction.oos_score, 4),
        priority=assess_priority(probe, raw, category),
        queue=probe.category(category).target_queue if category else None,
        neighbours=[(lab, round(cos, 4)) for lab, cos in prediction.neighbours],
    )
    decision = decide_action(probe, "auto", cls, None, [], [], [])
    return HeldOut(label=label, fold=fold, category=category, confidence=cls.confidence,
                   eligible=decision.decision in ("auto_route", "auto_reply"),
                   rejected=decision.decision == "reject")


# --- choosing thresholds ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Curve:
    """One category's eligible tickets by falling confidence, as cumulative counts at each distinct value."""

    confidences: list[float]
    right: list[int]
    total: list[int]

    @classmethod
    def of(cls, preds: list[HeldOut]) -> Curve:
        ordered = sorted(preds, key=lambda p: -p.confidence)
        confidences: list[float] = []
        right: list[int] = []
        total: list[int] = []
        r = 0
        for i, p in enumerate(ordered):
            r += int(p.right)
            if i + 1 == len(ordered) or ordered[i + 1].confidence != p.confidence:  # ties go together
                confidences.append(p.confidence)
                right.append(r)
                total.append(i + 1)
        return cls(confidences, right, total)

    def best_cut(self, price: float, target: float, floor: float) -> int:
        """Index of the prefix maximising right - price * wrong with precision >= target; -1 for none."""
        best, best_value = -1, 0.0
        for i, (r, n) in enumerate(zip(self.right, self.total, strict=True)):
            if self.confidences[i] < floor:
                break
            value = r - price * (n - r)
            if r >= target * n and value > best_value + 1e-12:
                best, best_value = i, value
        return best


def _prices() -> list[float]:
    """Prices of one mistake, from 'avoid every mistake' down to 'a mistake costs one right answer'."""
    return [float(p) for p in np.geomspace(1e6, 1.0, 241)]


def _cuts(curves: dict[str, Curve], price: float, target: float, floor: float) -> dict[str, int]:
    return {c: curve.best_cut(price, target, floor) for c, curve in curves.items()}


def _pooled(curves: dict[str, Curve], cuts: dict[str, int], fixed_right: int, fixed_n: int) -> tuple[int, int]:
    right, n = fixed_right, fixed_n
    for c, i in cuts.items():
        if i >= 0:
            right += curves[c].right[i]
            n += curves[c].total[i]
    return right, n


def _lower_bound(right: int, n: int) -> float:
    interval = wilson_interval(right, n)
    return interval[0] if interval else 0.0


def choose_thresholds(preds: list[HeldOut], categories: list[str], target: float,
                      floor: float = 0.5) -> dict[str, float]:
    """Per-category thresholds (see the module docstring); categories with no eligible tickets are omitted."""
    eligible = [p for p in preds if p.eligible and p.category is not None]
    curves = {c: Curve.of([p for p in eligible if p.category == c]) for c in categories}
    curves = {c: curve for c, curve in curves.items() if curve.total}
    fixed = [p for p in preds if p.rejected]
    fixed_right = sum(1 for p in fixed if p.right)
    chosen = {c: -1 for c in curves}
    for price in _prices():
        cuts = _cuts(curves, price, target, floor)
        right, n = _pooled(curves, cuts, fixed_right, len(fixed))
        if n and _lower_bound(right, n) < target:
            break
        chosen = cuts
    return {c: (curves[c].confidences[i] if i >= 0 else NEVER) for c, i in chosen.items()}


@dataclass(frozen=True)
class Outcome:
    """What a set of thresholds does to a set of predictions."""

    n: int
    automated: int
    right: int

    @property
    def automation_rate(self) -> float | None:
        return round(self.automated / self.n, 4) if self.n else None

    @property
    def auto_precision(self) -> float | None:
        return round(self.right / self.automated, 4) if self.automated else None

    def as_json(self) -> dict[str, Any]:
        return {"n": self.n, "automated_n": self.automated, "automation_rate": self.automation_rate,
                "auto_precision": self.auto_precision, "auto_precision_ci95": wilson_interval(self.right,
                                                                                               self.automated)}


def automated(p: HeldOut, thresholds: dict[str, float]) -> bool:
    if p.rejected:
        return True
    if not p.eligible or p.category is None:
        return False
    threshold = thresholds.get(p.category, NEVER)
    return threshold < NEVER and p.confidence >= threshold


def apply(preds: list[HeldOut], thresholds: dict[str, float]) -> Outcome:
    chosen = [p for p in preds if automated(p, thresholds)]
    return Outcome(n=len(preds), automated=len(chosen), right=sum(1 for p in chosen if p.right))


def cross_checked(preds: list[HeldOut], categories: list[str], target: float, floor: float) -> Outcome:
    """Thresholds chosen without fold f, applied to fold f, summed over folds: a fairer estimate."""
    n = auto = right = 0
    for fold in sorted({p.fold for p in preds}):
        rest = [p for p in preds if p.fold != fold]
        mine = [p for p in preds if p.fold == fold]
        outcome = apply(mine, choose_thresholds(rest, categories, target, floor))
        n, auto, right = n + outcome.n, auto + outcome.automated, right + outcome.right
    return Outcome(n=n, automated=auto, right=right)


@dataclass(frozen=True)
class Calibration:
    target: float
    thresholds: dict[str, float]
    """Only categories the policy could automate; NEVER for those that cannot meet the target."""
    per_category: dict[str, dict[str, Any]]
    overall: Outcome
    cross_checked: Outcome
    before: Outcome
    """The pack's current thresholds on the same predictions."""
    not_calibrated: dict[str, str]
    """Categories left out, and why (autonomy, no eligible prediction)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "target_precision": self.target,
            "fewest_automated_for_bound": fewest_for_bound(self.target),
            "thresholds": self.thresholds,
            "meets_target": sorted(c for c, t in self.thresholds.items() if t < NEVER),
            "stays_propose": sorted(c for c, t in self.thresholds.items() if t >= NEVER),
            "not_calibrated": self.not_calibrated,
            "out_of_fold": self.overall.as_json(),
            "cross_checked": self.cross_checked.as_json(),
            "before": self.before.as_json(),
            "per_category": self.per_category,
        }


def calibrate(pack: Pack, preds: list[HeldOut], target: float, floor: float = 0.5) -> Calibration:
    """Choose the thresholds and measure what they buy on the out-of-fold predictions."""
    if not 0.5 <= target < 1.0:
        raise CalibrationError(f"--target-precision {target}: must be at least 0.5 and below 1")
    names = pack.category_names
    thresholds = choose_thresholds(preds, names, target, floor)
    # An `auto` category with no held-out ticket the policy could automate has no evidence either way:
    # it must not keep acting alone on the default threshold.
    for c in names:
        if pack.category(c).autonomy == "auto" and c not in thresholds:
            thresholds[c] = NEVER
    per_category: dict[str, dict[str, Any]] = {}
    not_calibrated: dict[str, str] = {}
    for c in names:
        mine = [p for p in preds if p.category == c]
        if c not in thresholds:
            not_calibrated[c] = f"autonomy {pack.category(c).autonomy}: never automated"
            continue
        outcome = apply(mine, {c: thresholds[c]})
        per_category[c] = {"threshold": thresholds[c], "predicted_n": len(mine),
                           "eligible_n": sum(1 for p in mine if p.eligible), **outcome.as_json()}
        per_category[c].pop("n")
    current = {c: pack.threshold(c) for c in names}
    return Calibration(
        target=target, thresholds=thresholds, per_category=per_category, overall=apply(preds, thresholds),
        cross_checked=cross_checked(preds, names, target, floor), before=apply(preds, current),
        not_calibrated=not_calibrated,
    )


def fewest_for_bound(target: float) -> int | None:
    """The fewest automated tickets whose Wilson lower bound can reach `target` (all of them right)."""
    for n in range(1, 100_000):
        if _lower_bound(n, n) >= target:
            return n
    return None
