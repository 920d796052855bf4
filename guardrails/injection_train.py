"""Training the injection model from the bundled corpus: `python -m guardrails.injection_train`.

Inputs are the project's own data only: guardrails/data/injection_corpus.jsonl (attack styles and hard
benign look-alikes), and the bundled packs' example tickets and KB articles (benign support language).
Thresholds come from out-of-fold scores of that benign data (5-fold, pooled over 5 fold assignments:
CALIBRATION_SEEDS), so they are not fitted to any benchmark. Training takes ~15 minutes on 2 cores.
The evaluation script (eval/injection_bench.py) reuses `fit_model` to train with public sets added.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.optimize import minimize

from guardrails.injection import readable_for_model
from guardrails.injection_corpus import iter_corpus
from guardrails.injection_features import N_BUCKETS, bag, positioned_features
from guardrails.injection_model import CLASSES, MODEL_PATH, InjectionModel, LinearSoftmax, attack_log_odds
from guardrails.spans import sentence_spans, split_spans

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# Benign groups: "plain" text should almost never be flagged, "hard" look-alikes are allowed a little more.
PLAIN_FPR = 0.002
HARD_FPR = 0.01
# A long text has many spans, each a chance of a false alarm: spans get half the budgets.
SPAN_BUDGET_SHARE = 0.5
HARD_STYLES = {"support_lookalike", "support_email", "support_opener", "safe_question", "benign_request_frame",
               "creative_writing", "benign_document", "security_question", "trigger_instruction",
               "trigger_story", "writing_request", "explain_request"}
L2 = 2e-4
# The n-gram model has no dense vector to lean on: a lighter penalty lets rare attack n-grams count.
NGRAM_L2 = 3e-5
# Thresholds are extreme quantiles (0.2% of ~6,000 plain rows is the 12th highest score; the span one is
# about the highest of ~800 multi-sentence rows), so which rows share a held-out fold moves them. Out-of-fold
# scores of this many fold assignments (seeds 0..4) are pooled first. Measured on the 16,172-row training set
# (five assignments; sd over single assignments vs over pools of three): whole-text threshold 0.81-0.90
# (sd 0.037) -> sd 0.022, n-gram sd 0.029 -> 0.008, span 0.76-1.60 (sd 0.31) -> sd 0.13. With one
# assignment HWU64 false alarms moved between 34 and 43 rows on retraining the same corpus. Averaging each
# row's scores over the assignments instead of pooling them was less steady (sd 0.027 / 0.035 / 0.145).
CALIBRATION_SEEDS = 5

FloatArray = npt.NDArray[np.float32]


@dataclass
class TrainingSet:
    texts: list[str]
    labels: npt.NDArray[np.int64]
    """Index into CLASSES."""
    groups: list[str]
    """"plain", "hard" or "attack": which benign false-positive budget a row counts against."""
    vectors: FloatArray | None = None


def bundled_training_set() -> TrainingSet:
    """The corpus plus the bundled packs' example tickets and KB bodies (benign)."""
    texts: list[str] = []
    labels: list[int] = []
    groups: list[str] = []
    for row in iter_corpus():
        texts.append(row["text"])
        labels.append(CLASSES.index(row["label"]))
        groups.append("attack" if row["label"] != "benign" else "hard" if row["style"] in HARD_STYLES else "plain")
    for examples in sorted((PROJECT_ROOT / "packs").glob("*/examples.csv")):
        with examples.open(encoding="utf-8", newline="") as f:
            for record in csv.DictReader(f):
                texts.append(record["text"])
                labels.append(0)
                groups.append("plain")
    for article in sorted((PROJECT_ROOT / "packs").glob("*/kb/*.md")):
        body = article.read_text(encoding="utf-8").split("---", 2)[-1]
        for block in body.split("\n## "):
            if block.strip():
                texts.append(block.strip())
                labels.append(0)
                groups.append("hard")
    # Each sentence of a longer benign text is a benign example too: spans are scored on their own at run
    # time, and a KB step such as "approve the prompt in your authenticator" must not look like an order.
    for i in range(len(texts)):
        if labels[i] == 0:
            normalised = readable_for_model(texts[i])[0]
            sentences = sentence_spans(normalised)
            for start, end in sentences if len(sentences) > 1 else []:
                texts.append(normalised[start:end])
                labels.append(0)
                groups.append(groups[i])
    return TrainingSet(texts, np.array(labels, dtype=np.int64), groups)


def hashed_matrix(texts: Sequence[str]) -> sparse.csr_matrix:
    """One row of hashed n-gram values per text (the runtime's feature definition)."""
    indptr = [0]
    indices: list[npt.NDArray[np.int64]] = []
    data: list[FloatArray] = []
    for text in texts:
        buckets, values = bag(positioned_features(readable_for_model(text)[0]))
        indices.append(buckets)
        data.append(values)
        indptr.append(indptr[-1] + len(buckets))
    return sparse.csr_matrix((np.concatenate(data), np.concatenate(indices), np.array(indptr)),
                             shape=(len(texts), N_BUCKETS), dtype=np.float32)


def fit_softmax(hashed: sparse.csr_matrix, dense: FloatArray | None, labels: npt.NDArray[np.int64],
                l2: float = L2, max_iter: int = 300) -> LinearSoftmax:
    """Class-balanced multinomial logistic regression with an L2 penalty, by L-BFGS."""
    n, k = hashed.shape[0], len(CLASSES)
    design = hashed if dense is None else sparse.hstack([hashed, sparse.csr_matrix(dense)], format="csr")
    d = design.shape[1]
    onehot = np.eye(k, dtype=np.float64)[labels]
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    weights = (n / (k * np.maximum(counts, 1)))[labels] / n
    design_t = design.T.tocsr()

    def loss_and_grad(theta: npt.NDArray[np.float64]) -> tuple[float, npt.NDArray[np.float64]]:
        w = theta[: d * k].reshape(d, k)
        b = theta[d * k :]
        logits = design @ w + b
        logits -= logits.max(axis=1, keepdims=True)
        log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        loss = -float((weights[:, None] * onehot * log_p).sum()) + 0.5 * l2 * float((w * w).sum())
        residual = weights[:, None] * (np.exp(log_p) - onehot)
        grad_w = design_t @ residual + l2 * w
        return loss, np.concatenate([np.asarray(grad_w).ravel(), residual.sum(axis=0)])

    result = minimize(loss_and_grad, np.zeros(d * k + k), jac=True, method="L-BFGS-B",
                      options={"maxiter": max_iter})
    w = result.x[: d * k].reshape(d, k).T.astype(np.float32)
    bias = result.x[d * k :].astype(np.float32)
    return LinearSoftmax(hashed=np.ascontiguousarray(w[:, :N_BUCKETS]), bias=bias,
                         dense=None if dense is None else np.ascontiguousarray(w[:, N_BUCKETS:]))


@dataclass
class FoldScores:
    """Attack log-odds per row: whole text with the vector, n-grams only, and the best span (-inf if none)."""

    whole: FloatArray
    ngram: FloatArray
    span: FloatArray


def score_rows(model: InjectionModel, texts: Sequence[str], vectors: FloatArray | None) -> FoldScores:
    """Raw scores (no thresholds) of `model` on each text."""
    whole, ngram, span = [], [], []
    for i, text in enumerate(texts):
        features = positioned_features(readable_for_model(text)[0])
        buckets, values = bag(features)
        vec = None if vectors is None else vectors[i]
        whole.append(float(attack_log_odds(model.whole.logits(buckets, values, vec))))
        ngram.append(float(attack_log_odds(model.ngram_whole.logits(buckets, values, None))))
        spans = split_spans(features.text)
        probe = InjectionModel(model.whole, model.ngram_whole, model.encoder_name, model.encoder_dim,
                               np.inf, np.inf, -np.inf)
        hits = probe.span_hits(features, spans)
        span.append(hits[0].score if hits else -np.inf)
    return FoldScores(np.array(whole, np.float32), np.array(ngram, np.float32), np.array(span, np.float32))


def _threshold(scores: FloatArray, groups: Sequence[str], share: float = 1.0,
               budgets: tuple[float, float] = (PLAIN_FPR, HARD_FPR)) -> float:
    """The lowest threshold that keeps both benign groups within (a share of) their false-positive budgets."""
    group_array = np.array(groups)
    cut = -np.inf
    for group, budget in zip(("plain", "hard"), budgets, strict=True):
        values = scores[(group_array == group) & np.isfinite(scores)]
        if len(values):
            cut = max(cut, float(np.quantile(values, 1 - budget * share)))
    return cut


def thresholds_from(pooled: FoldScores, groups: Sequence[str],
                    budgets: tuple[float, float] = (PLAIN_FPR, HARD_FPR)) -> tuple[float, float, float]:
    """Whole-text, n-gram and span thresholds read off out-of-fold benign scores under (plain, hard) budgets."""
    whole = _threshold(pooled.whole, groups, budgets=budgets)
    ngram = _threshold(pooled.ngram, groups, budgets=budgets)
    # A span is a short text scored by the n-gram model: never easier than a whole text.
    span = max(_threshold(pooled.span, groups, SPAN_BUDGET_SHARE, budgets), ngram)
    return whole, ngram, span


def _fit_pair(hashed: sparse.csr_matrix, data: TrainingSet, rows: npt.NDArray[np.int64],
              encoder_name: str, max_iter: int) -> InjectionModel:
    vectors = None if data.vectors is None else data.vectors[rows]
    whole = fit_softmax(hashed[rows], vectors, data.labels[rows], max_iter=max_iter)
    ngram = fit_softmax(hashed[rows], None, data.labels[rows], l2=NGRAM_L2, max_iter=max_iter)
    dim = 0 if vectors is None else vectors.shape[1]
    return InjectionModel(whole, ngram, encoder_name, dim, 0.0, 0.0, 0.0)


def calibration_scores(data: TrainingSet, hashed: sparse.csr_matrix, encoder_name: str, folds: int = 5,
                       seed: int = 0, calibration_folds: int | None = None, max_iter: int = 300,
                       calibration_seeds: int = CALIBRATION_SEEDS) -> tuple[FoldScores, list[str]]:
    """Out-of-fold scores of `calibration_seeds` fold assignments, pooled, with each pooled row's group
    ("unscored" for rows in folds that `calibration_folds` skipped)."""
    pooled: list[FoldScores] = []
    pooled_groups: list[str] = []
    for repeat in range(calibration_seeds):
        order = np.random.default_rng(seed + repeat).permutation(len(data.texts))
        oof = FoldScores(*(np.full(len(data.texts), -np.inf, np.float32) for _ in range(3)))
        scored = np.zeros(len(data.texts), dtype=bool)
        for fold in range(calibration_folds or folds):
            held = order[fold::folds]
            kept = np.setdiff1d(order, held)
            model = _fit_pair(hashed, data, kept, encoder_name, max_iter)
            scores = score_rows(model, [data.texts[i] for i in held],
                                None if data.vectors is None else data.vectors[held])
            oof.whole[held], oof.ngram[held], oof.span[held] = scores.whole, scores.ngram, scores.span
            scored[held] = True
            logger.info("calibration fold %d/%d of fold assignment %d/%d done", fold + 1, folds, repeat + 1,
                        calibration_seeds)
        pooled.append(oof)
        pooled_groups += [g if scored[i] else "unscored" for i, g in enumerate(data.groups)]
    whole, ngram, span = (np.concatenate([getattr(o, k) for o in pooled]) for k in ("whole", "ngram", "span"))
    return FoldScores(whole, ngram, span), pooled_groups


def fit_model(data: TrainingSet, encoder_name: str, folds: int = 5, seed: int = 0,
              calibration_folds: int | None = None, max_iter: int = 300,
              calibration_seeds: int = CALIBRATION_SEEDS) -> InjectionModel:
    """Fit on all of `data`, with thresholds from out-of-fold scores of its benign rows.

    The out-of-fold scores of `calibration_seeds` different fold assignments are pooled before the
    thresholds are read off them (see CALIBRATION_SEEDS). `calibration_folds` < `folds` scores only that
    many held-out folds per assignment and a lower `max_iter` stops L-BFGS earlier (both cheaper, for
    benchmarks that fit many models).
    """
    hashed = hashed_matrix(data.texts)
    pooled, groups = calibration_scores(data, hashed, encoder_name, folds, seed, calibration_folds, max_iter,
                                        calibration_seeds)
    final = _fit_pair(hashed, data, np.arange(len(data.texts)), encoder_name, max_iter)
    whole, ngram, span = thresholds_from(pooled, groups)
    return InjectionModel(final.whole, final.ngram_whole, encoder_name, final.encoder_dim,
                          whole_threshold=whole, ngram_whole_threshold=ngram, span_threshold=span)


def guard_view(text: str) -> str:
    """The text guard_input embeds for a ticket: limited, PII-redacted, newest message only, cleaned."""
    from agent.models.text import clean_ticket
    from guardrails.limits import check_limits
    from guardrails.pii import redact

    return clean_ticket(redact(check_limits(text, 20_000).text).text)


def encode_like_guard(texts: Sequence[str]) -> tuple[FloatArray, str]:
    """The vectors guard_input would share for these texts (limits, redaction, cleaning, MiniLM)."""
    from agent.models.encoder import load_encoder

    encoder = load_encoder()
    cleaned = [guard_view(t) for t in texts]
    vectors: FloatArray = encoder.encode(cleaned).astype(np.float32)
    return vectors, encoder.name


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    data = bundled_training_set()
    data.vectors, encoder_name = encode_like_guard(data.texts)
    model = fit_model(data, encoder_name)
    model.save(MODEL_PATH)
    print(f"trained on {len(data.texts)} rows; thresholds whole {model.whole_threshold:.2f}, "
          f"n-gram {model.ngram_whole_threshold:.2f}, span {model.span_threshold:.2f}; wrote {MODEL_PATH}")


if __name__ == "__main__":
    main()
