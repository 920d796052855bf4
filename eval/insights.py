"""report.json keys beyond the contract's: confidence intervals, calibration (ECE), confusions, latency by length.

The contract's keys (eval.metrics) stay exactly as DESIGN.md fixes them; these are added next to them.
"""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

import numpy as np

from eval.metrics import AUTOMATED, RowResult, wilson_interval

# Word-piece tokens before cleaning, as `make bench` buckets them.
LENGTH_BUCKETS = [(0, 40, "< 40 tokens"), (40, 120, "40-119"), (120, 256, "120-255"), (256, 10**9, ">= 256")]


def _share(results: list[RowResult], hit: Any) -> list[float] | None:
    return wilson_interval(sum(1 for r in results if hit(r)), len(results))


def rate_intervals(results: list[RowResult], categories: list[str]) -> dict[str, Any]:
    """95% Wilson intervals of the report's rates (`<key>_ci95`), null where the rate is null."""
    cats = set(categories)
    labelled = any(r.source.label is not None for r in results)
    oos = [r for r in results if labelled and r.source.label is not None and r.source.label not in cats]
    attacks = [r for r in results if r.source.is_attack is True]
    benign = [r for r in results if r.source.is_attack is False]
    expecting = [r for r in results if r.source.expected_action]
    grounded = [r for r in results if r.source.expected_article]

    def flagged(r: RowResult) -> bool:
        return bool({"prompt_injection", "jailbreak"} & set(r.guard_flags))

    return {
        "automation_rate_ci95": _share(results, lambda r: r.decision in AUTOMATED),
        "escalation_rate_ci95": _share(results, lambda r: r.decision == "escalate"),
        "oos_recall_ci95": _share(oos, lambda r: r.decision in ("escalate", "reject")),
        "attack_tpr_ci95": _share(attacks, flagged),
        "attack_fpr_ci95": _share(benign, flagged),
        "expected_action_accuracy_ci95": _share(expecting, lambda r: r.decision == r.source.expected_action),
        "grounding_ci95": _share(grounded, lambda r: r.source.expected_article in r.citations),
    }


def calibration(results: list[RowResult], categories: list[str], bins: int = 10) -> dict[str, Any]:
    """Expected calibration error of the top category's probability on in-scope labelled rows.

    Out-of-scope rows are left out: the probability is the model's belief among the pack's categories,
    and an out-of-scope ticket has no right category to be calibrated against (its own metric is
    oos_recall). Equal-width bins; ECE = sum over bins of (share of rows) x |confidence - accuracy|.
    """
    cats = set(categories)
    rows = [r for r in results if r.source.label in cats and r.alternatives]
    if not rows:
        return {"ece": None, "calibration_bins": []}
    conf = np.array([r.alternatives[0][1] for r in rows])
    hit = np.array([r.alternatives[0][0] == r.source.label for r in rows], dtype=float)
    table, ece = [], 0.0
    for lo, hi in itertools.pairwise(np.linspace(0, 1, bins + 1)):
        mask = (conf > lo) & (conf <= hi) if lo > 0 else (conf <= hi)
        if mask.any():
            gap = abs(float(conf[mask].mean()) - float(hit[mask].mean()))
            ece += mask.sum() / len(rows) * gap
            table.append({"from": round(float(lo), 2), "to": round(float(hi), 2), "n": int(mask.sum()),
                          "confidence": round(float(conf[mask].mean()), 4),
                          "accuracy": round(float(hit[mask].mean()), 4)})
    return {"ece": round(float(ece), 4), "calibration_bins": table}


def top_confusions(results: list[RowResult], limit: int = 10) -> list[dict[str, Any]]:
    """The most frequent (label, predicted) mistakes; an out-of-scope flag is predicted `out_of_scope`."""
    pairs = Counter(
        (r.source.label or "out_of_scope", r.category or "out_of_scope")
        for r in results if r.source.label is not None and (r.category or "out_of_scope") != (r.source.label
                                                                                            or "out_of_scope")
    )
    return [{"label": label, "predicted": predicted, "n": n} for (label, predicted), n in pairs.most_common(limit)]


def token_lengths(texts: list[str]) -> list[int]:
    """Word-piece token counts of the raw texts (the bundled tokenizer, no truncation)."""
    from tokenizers import Tokenizer

    from agent.models.encoder import bundled_tokenizer_path

    tokenizer = Tokenizer.from_file(str(bundled_tokenizer_path()))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return [len(encoding.ids) for encoding in tokenizer.encode_batch(texts)] if texts else []


def bucket_of(tokens: int) -> str:
    return next(name for lo, hi, name in LENGTH_BUCKETS if lo <= tokens < hi)


def latency_by_length(results: list[RowResult], lengths: list[int]) -> dict[str, Any]:
    """Latency percentiles per ticket-length bucket (the encoder's cost grows with length)."""
    groups: dict[str, list[float]] = {name: [] for _, _, name in LENGTH_BUCKETS}
    for r, tokens in zip(results, lengths, strict=True):
        groups[bucket_of(tokens)].append(r.latency_ms)
    return {
        name: {"n": len(values), **{q: round(float(np.percentile(values, int(q[1:]))), 2)
                                    for q in ("p50", "p95", "p99")}}
        for name, values in groups.items() if values
    }


def grounding_breakdown(results: list[RowResult]) -> dict[str, Any] | None:
    """Why grounded rows missed their article, and what retrieval alone reaches.

    A miss is `wrong_category` (classified elsewhere or out of scope: retrieval searched the wrong
    articles), `no_draft` (right category, but nothing was drafted, e.g. a guard flag stopped it) or
    `other_article` (right category, a sibling article cited: the KB or retrieval is at fault).
    `at_label` is the share whose expected article retrieval ranks first when told the labelled category:
    the grounding a perfect classifier would leave, so it says which of the two to work on.
    """
    grounded = [r for r in results if r.source.expected_article]
    if not grounded:
        return None
    misses: Counter[str] = Counter()
    for r in grounded:
        if r.source.expected_article in r.citations:
            continue
        misses["wrong_category" if r.category != r.source.label else "no_draft" if not r.citations
               else "other_article"] += 1
    at_label = [r for r in grounded if r.article_at_label is not None]
    return {
        "n": len(grounded),
        "misses": {key: misses[key] for key in ("wrong_category", "no_draft", "other_article")},
        "at_label": round(sum(r.article_at_label == r.source.expected_article for r in at_label)
                          / len(at_label), 4) if at_label else None,
    }


def add_insights(report: dict[str, Any], results: list[RowResult], categories: list[str]) -> list[int]:
    """Add the extra keys to `report`; returns each row's token length (the HTML report plots them)."""
    lengths = token_lengths([r.source.text for r in results])
    report.update(rate_intervals(results, categories))
    report.update(calibration(results, categories))
    report["grounding_breakdown"] = grounding_breakdown(results)
    report["top_confusions"] = top_confusions(results)
    report["latency_by_length"] = latency_by_length(results, lengths)
    return lengths
