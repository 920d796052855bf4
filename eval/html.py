"""The human report: headline numbers with their intervals, SLOs, plots, confusions and the worst mistakes.

One self-contained page (plots inlined as PNG); the worst mistakes link to each row's audit trail, which
the runner writes next to it (audit/row-N.json).
"""

from __future__ import annotations

import base64
import html
import io
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from eval.insights import LENGTH_BUCKETS, bucket_of
from eval.metrics import RowResult

HEADLINE = ["n", "accuracy", "macro_f1", "automation_rate", "auto_precision", "escalation_rate", "oos_recall",
            "attack_tpr", "attack_fpr", "attack_contained", "expected_action_accuracy", "grounding",
            "never_handled_alone", "expected_automation_rate", "ece", "p50_latency_ms", "p95_latency_ms",
            "p99_latency_ms"]


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def risk_coverage(results: list[RowResult]) -> tuple[list[float], list[float]]:
    """Auto-precision against the share of tickets automated as one confidence threshold moves."""
    labelled = [r for r in results if r.source.label is not None]
    if not labelled:
        return [], []
    order = sorted(labelled, key=lambda r: -r.confidence)
    coverage, precision, right = [], [], 0
    for i, r in enumerate(order, start=1):
        right += int(r.category is not None and r.category == r.source.label)
        coverage.append(i / len(labelled))
        precision.append(right / i)
    return coverage, precision


def _risk_plot(plt: Any, results: list[RowResult], report: dict[str, Any]) -> str | None:
    cov, prec = risk_coverage(results)
    if not cov:
        return None
    fig, ax = plt.subplots(figsize=(5, 3.6))
    ax.plot(cov, prec, color="#1f6feb", label="category right, one global threshold")
    if report.get("auto_precision") is not None:
        ax.plot([report["automation_rate"]], [report["auto_precision"]], "o", color="#d4380d",
                label="the pack's policy (this run)")
    ceiling = report.get("expected_automation_rate")
    if ceiling is not None:
        ax.axvline(ceiling, linestyle=":", color="grey", label="most automatable (expected actions)")
    ax.set_xlabel("automation rate (share of tickets above the threshold)")
    ax.set_ylabel("precision of those tickets")
    ax.set_ylim(max(0.0, min(prec) - 0.05), 1.005)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower left")
    ax.set_title("Risk-coverage: what a confidence threshold buys")
    return _png(fig)


def _calibration_plot(plt: Any, report: dict[str, Any]) -> str | None:
    bins = report.get("calibration_bins") or []
    if not bins:
        return None
    fig, ax = plt.subplots(figsize=(5, 3.6))
    ax.plot([0, 1], [0, 1], "--", color="grey", linewidth=1)
    ax.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], "o-", color="#d4380d")
    for b in bins:
        ax.annotate(str(b["n"]), (b["confidence"], b["accuracy"]), fontsize=6, xytext=(3, -9),
                    textcoords="offset points")
    ax.set_xlabel("predicted confidence (in-scope rows)")
    ax.set_ylabel("observed accuracy")
    ax.set_title(f"Calibration (ECE {report['ece']:.3f}; numbers = rows per bin)")
    ax.grid(alpha=0.3)
    return _png(fig)


def _confusion_plot(plt: Any, results: list[RowResult]) -> str | None:
    labelled = [r for r in results if r.source.label is not None]
    if not labelled:
        return None
    support = Counter(r.source.label or "" for r in labelled)
    names = [name for name, _ in support.most_common(20)]
    index = {name: i for i, name in enumerate(names)}
    matrix = np.zeros((len(names), len(names) + 1))
    for r in labelled:
        if r.source.label in index:
            predicted = r.category or "out_of_scope"
            matrix[index[r.source.label], index.get(predicted, len(names))] += 1
    matrix = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(0.38 * len(names) + 3, 0.34 * len(names) + 2))
    ax.imshow(matrix, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(names) + 1), [*names, "other"], rotation=90, fontsize=7)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("label")
    ax.set_title("Confusion (row-normalised, 20 largest labels)")
    return _png(fig)


def _latency_plot(plt: Any, results: list[RowResult], report: dict[str, Any], lengths: list[int] | None) -> str:
    fig, ax = plt.subplots(figsize=(5, 3.6))
    if lengths is not None:
        groups = [[r.latency_ms for r, t in zip(results, lengths, strict=True) if bucket_of(t) == name]
                  for _, _, name in LENGTH_BUCKETS]
        labels = [f"{name} ({len(g)})" for (_, _, name), g in zip(LENGTH_BUCKETS, groups, strict=True)]
        ax.hist(groups, bins=40, stacked=True, label=labels)
    else:
        ax.hist([r.latency_ms for r in results], bins=40, color="#389e0d")
    for q, style in (("p50", "-"), ("p95", "--"), ("p99", ":")):
        value = report["latency_ms"][q]
        ax.axvline(value, color="black", linestyle=style, linewidth=1, label=f"{q} {value:.1f} ms")
    ax.set_xlabel("latency per ticket (ms, warm)")
    ax.set_ylabel("tickets")
    ax.legend(fontsize=7)
    ax.set_title("Latency by ticket length (word-piece tokens)")
    return _png(fig)


def _plots(results: list[RowResult], report: dict[str, Any], lengths: list[int] | None) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plots = {
        "Risk-coverage curve": _risk_plot(plt, results, report),
        "Calibration curve": _calibration_plot(plt, report),
        "Confusion matrix": _confusion_plot(plt, results),
        "Latency histogram by length": _latency_plot(plt, results, report, lengths) if results else None,
    }
    return {title: png for title, png in plots.items() if png}


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}"
    return html.escape(str(value))


def _ci(value: Any) -> str:
    return f"{value[0]:.3f} to {value[1]:.3f}" if isinstance(value, list) and len(value) == 2 else ""


def _table(header: list[str], rows: list[list[str]], empty: str) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body or f'<tr><td colspan={len(header)}>{empty}</td></tr>'}</table>"


def _headline(report: dict[str, Any]) -> str:
    rows = [[f"<b>{k}</b>", _fmt(report.get(k)), _ci(report.get(f"{k}_ci95"))] for k in HEADLINE]
    return _table(["metric", "value", "95% interval"], rows, "")


def _slos(report: dict[str, Any]) -> str:
    rows = []
    for s in report.get("slo", []):
        verdict = "met" if s["met"] else ("<b class='miss'>MISSED</b>" if s["met"] is False else "not measured")
        rows.append([html.escape(s["slo"]), _fmt(s["target"]), _fmt(s["value"]), verdict])
    return _table(["SLO", "target", "measured", ""], rows, "no SLOs set in pack.yaml")


def _per_category(report: dict[str, Any], results: list[RowResult]) -> str:
    automated = Counter(r.category for r in results if r.decision in ("auto_reply", "auto_route"))
    right = Counter(r.category for r in results
                    if r.decision in ("auto_reply", "auto_route") and r.category == r.source.label
                    and not r.source.is_attack)
    per_cat = report.get("per_category") or {}
    rows = [
        [f"<b>{html.escape(name)}</b>", _fmt(m["precision"]), _fmt(m["recall"]), _fmt(m["f1"]), str(m["n"]),
         str(automated[name]), _fmt(right[name] / automated[name] if automated[name] else None)]
        for name, m in sorted(per_cat.items(), key=lambda kv: (kv[1]["f1"] is None, kv[1]["f1"] or 0.0))
    ]
    return _table(["category (worst F1 first)", "precision", "recall", "f1", "n", "automated", "auto-precision"],
                  rows, "no labels")


def _confusions(report: dict[str, Any]) -> str:
    rows = [[html.escape(c["label"]), html.escape(c["predicted"]), str(c["n"])]
            for c in report.get("top_confusions") or []]
    return _table(["label", "predicted as", "rows"], rows, "no mistakes")


def _machine(env: dict[str, Any] | None) -> str:
    """One line naming the machine and the package versions the numbers depend on."""
    if not env:
        return "an unrecorded machine"
    cpu = env.get("cpu") or {}
    flags = ", ".join(cpu.get("kernel_flags") or []) or "flags unknown"
    packages = ", ".join(f"{name} {v}" for name, v in (env.get("packages") or {}).items() if v)
    return (f"{cpu.get('model') or 'an unnamed CPU'} ({cpu.get('architecture')}, {cpu.get('cores')} cores; "
            f"{flags}), Python {env.get('python')}, {packages}")


def _grounding(report: dict[str, Any]) -> str:
    breakdown = report.get("grounding_breakdown")
    if not breakdown:
        return ""
    misses = breakdown["misses"]
    return _table(["grounded rows", "missed: wrong category", "missed: nothing drafted", "missed: other article",
                   "first article given the labelled category"],
                  [[str(breakdown["n"]), str(misses["wrong_category"]), str(misses["no_draft"]),
                    str(misses["other_article"]), _fmt(breakdown["at_label"])]], "")


def worst_mistakes(results: list[RowResult], limit: int = 20) -> list[RowResult]:
    """Wrong category, automated first (a customer saw it), then the most confident."""
    wrong = [r for r in results if r.source.label is not None
             and (r.category or "out_of_scope") != (r.source.label or "out_of_scope")]
    return sorted(wrong, key=lambda r: (r.decision not in ("auto_reply", "auto_route"), -r.confidence))[:limit]


def _mistakes(results: list[RowResult]) -> str:
    rows = [
        [f"<a href='audit/row-{r.source.row}.json'>{r.source.row}</a>", html.escape(r.source.text[:160]),
         html.escape(str(r.source.label)), html.escape(str(r.category or "out_of_scope")), f"{r.confidence:.2f}",
         f"<b>{html.escape(r.decision)}</b>" if r.decision in ("auto_reply", "auto_route") else html.escape(r.decision),
         html.escape(", ".join(r.reasons))]
        for r in worst_mistakes(results)
    ]
    return _table(["row (audit trail)", "text", "label", "predicted", "confidence", "decision", "reasons"],
                  rows, "none")


def write_html(path: Path, report: dict[str, Any], results: list[RowResult],
               lengths: list[int] | None = None) -> None:
    """Write a self-contained HTML page (plots inlined as PNG)."""
    plots = "".join(
        f"<figure><img alt='{html.escape(t)}' src='data:image/png;base64,{b}'><figcaption>{html.escape(t)}"
        f"</figcaption></figure>"
        for t, b in _plots(results, report, lengths).items()
    )
    pack = report.get("pack", {})
    name = html.escape(str(pack.get("name", "")))
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Triage eval: {name}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;max-width:1200px;color:#1f2328}}
table{{border-collapse:collapse;margin:1rem 0}}td,th{{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left}}
.miss{{color:#cf222e}}figure{{display:inline-block;margin:1rem}}.grid{{display:flex;flex-wrap:wrap;gap:2rem}}
</style></head><body>
<h1>Triage eval: {name}</h1>
<p>Pack version {html.escape(str(pack.get('version', '')))}, model version
{html.escape(str(pack.get('model_version', '')))} trained {html.escape(str(pack.get('model_trained_at', '')))},
encoder {html.escape(str(pack.get('encoder', '')))}. Skipped rows (empty text): {len(report['skipped'])}.
Intervals are 95% Wilson intervals.</p>
<p>Measured on {html.escape(_machine(report.get('environment')))}.</p>
<div class="grid"><div><h2>Numbers</h2>{_headline(report)}</div><div><h2>SLOs</h2>{_slos(report)}
<h2>Top confusions</h2>{_confusions(report)}</div></div>
<h2>Grounding</h2>{_grounding(report)}
<h2>Plots</h2><div class="grid">{plots}</div>
<h2>Per category</h2>{_per_category(report, results)}
<h2>Worst mistakes</h2><p>Wrong category; the ones the agent acted on alone first.</p>{_mistakes(results)}
</body></html>"""
    path.write_text(page)
