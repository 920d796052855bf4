"""The human report: headline numbers, SLOs and the plots a person would rather look at than read."""

from __future__ import annotations

import base64
import html
import io
import itertools
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from eval.metrics import RowResult


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


def calibration_bins(results: list[RowResult], bins: int = 10) -> tuple[list[float], list[float], list[int], float]:
    """Mean confidence and accuracy per confidence bin, and the expected calibration error."""
    labelled = [r for r in results if r.source.label is not None and r.alternatives]
    conf = np.array([r.alternatives[0][1] for r in labelled])
    hit = np.array([r.alternatives[0][0] == r.source.label for r in labelled], dtype=float)
    edges = np.linspace(0, 1, bins + 1)
    means, accs, counts, ece = [], [], [], 0.0
    for lo, hi in itertools.pairwise(edges):
        mask = (conf > lo) & (conf <= hi) if lo > 0 else (conf >= lo) & (conf <= hi)
        if mask.sum():
            means.append(float(conf[mask].mean()))
            accs.append(float(hit[mask].mean()))
            counts.append(int(mask.sum()))
            ece += mask.sum() / len(conf) * abs(conf[mask].mean() - hit[mask].mean())
    return means, accs, counts, float(ece)


def _plots(results: list[RowResult], report: dict[str, Any]) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plots: dict[str, str] = {}
    cov, prec = risk_coverage(results)
    if cov:
        fig, ax = plt.subplots(figsize=(5, 3.6))
        ax.plot(cov, prec, color="#1f6feb")
        ax.set_xlabel("automation rate (share of tickets above the threshold)")
        ax.set_ylabel("precision of those tickets")
        ax.set_ylim(max(0.0, min(prec) - 0.05), 1.005)
        ax.grid(alpha=0.3)
        ax.set_title("Risk-coverage: what a confidence threshold buys")
        plots["Risk-coverage curve"] = _png(fig)
    means, accs, _counts, ece = calibration_bins(results)
    if means:
        fig, ax = plt.subplots(figsize=(5, 3.6))
        ax.plot([0, 1], [0, 1], "--", color="grey", linewidth=1)
        ax.plot(means, accs, "o-", color="#d4380d")
        ax.set_xlabel("predicted confidence")
        ax.set_ylabel("observed accuracy")
        ax.set_title(f"Calibration (ECE {ece:.3f})")
        ax.grid(alpha=0.3)
        plots["Calibration curve"] = _png(fig)
    labelled = [r for r in results if r.source.label is not None]
    if labelled:
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
        plots["Confusion matrix"] = _png(fig)
    if results:
        fig, ax = plt.subplots(figsize=(5, 3.6))
        ax.hist([r.latency_ms for r in results], bins=40, color="#389e0d")
        for q, style in (("p50", "-"), ("p95", "--"), ("p99", ":")):
            value = report["latency_ms"][q]
            ax.axvline(value, color="black", linestyle=style, linewidth=1, label=f"{q} {value:.1f} ms")
        ax.set_xlabel("latency per ticket (ms, warm)")
        ax.set_ylabel("tickets")
        ax.legend()
        ax.set_title("Latency")
        plots["Latency histogram"] = _png(fig)
    return plots


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}"
    return html.escape(str(value))


def write_html(path: Path, report: dict[str, Any], results: list[RowResult]) -> None:
    """Write a self-contained HTML page (plots inlined as PNG)."""
    headline = ["n", "accuracy", "macro_f1", "automation_rate", "auto_precision", "escalation_rate",
                "oos_recall", "attack_tpr", "attack_fpr", "attack_contained", "expected_action_accuracy",
                "grounding", "p50_latency_ms", "p95_latency_ms", "p99_latency_ms"]
    rows = "".join(f"<tr><th>{k}</th><td>{_fmt(report.get(k))}</td></tr>" for k in headline)
    slo_rows = "".join(
        f"<tr class='{'ok' if s['met'] else ('miss' if s['met'] is False else '')}'>"
        f"<th>{html.escape(s['slo'])}</th>"
        f"<td>{_fmt(s['target'])}</td><td>{_fmt(s['value'])}</td>"
        f"<td>{'met' if s['met'] else ('MISSED' if s['met'] is False else 'not measured')}</td></tr>"
        for s in report.get("slo", [])
    ) or "<tr><td colspan=4>no SLOs set in pack.yaml</td></tr>"
    per_cat = report.get("per_category") or {}
    cat_rows = "".join(
        f"<tr><th>{html.escape(name)}</th><td>{_fmt(m['precision'])}</td><td>{_fmt(m['recall'])}</td>"
        f"<td>{_fmt(m['f1'])}</td><td>{m['n']}</td></tr>"
        for name, m in sorted(per_cat.items(), key=lambda kv: (kv[1]["f1"] is None, kv[1]["f1"] or 0.0))
    )
    mistakes = sorted(
        (r for r in results if r.source.label is not None and r.category != r.source.label
         and r.decision in ("auto_reply", "auto_route")),
        key=lambda r: -r.confidence,
    )[:15]
    mistake_rows = "".join(
        f"<tr><td>{r.source.row}</td><td>{html.escape(r.source.text[:160])}</td>"
        f"<td>{html.escape(str(r.source.label))}</td><td>{html.escape(str(r.category))}</td>"
        f"<td>{r.confidence:.2f}</td><td>{html.escape(', '.join(r.reasons))}</td></tr>"
        for r in mistakes
    ) or "<tr><td colspan=6>none</td></tr>"
    plots = "".join(
        f"<figure><img alt='{html.escape(t)}' src='data:image/png;base64,{b}'><figcaption>{html.escape(t)}"
        f"</figcaption></figure>"
        for t, b in _plots(results, report).items()
    )
    pack = report.get("pack", {})
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Triage eval: {html.escape(str(pack.get('name', '')))}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;max-width:1200px;color:#1f2328}}
table{{border-collapse:collapse;margin:1rem 0}}td,th{{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left}}
tr.ok td{{background:#e6ffec}}tr.miss td{{background:#ffebe9}}figure{{display:inline-block;margin:1rem}}
.grid{{display:flex;flex-wrap:wrap}}</style></head><body>
<h1>Triage eval: {html.escape(str(pack.get('name', '')))}</h1>
<p>Pack version {html.escape(str(pack.get('version', '')))},
model trained {html.escape(str(pack.get('model_trained_at', '')))},
encoder {html.escape(str(pack.get('encoder', '')))}. Skipped rows (empty text): {len(report['skipped'])}.</p>
<div class="grid"><div><h2>Numbers</h2><table>{rows}</table></div>
<div><h2>SLOs</h2><table><tr><th>SLO</th><th>target</th><th>measured</th><th></th></tr>{slo_rows}</table></div></div>
<h2>Plots</h2><div class="grid">{plots}</div>
<h2>Per category</h2><table><tr><th>category</th><th>precision</th><th>recall</th><th>f1</th><th>n</th></tr>
{cat_rows}</table>
<h2>Worst automated mistakes</h2><table><tr><th>row</th><th>text</th><th>label</th><th>predicted</th><th>confidence</th>
<th>reasons</th></tr>{mistake_rows}</table></body></html>"""
    path.write_text(page)
