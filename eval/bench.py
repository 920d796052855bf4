"""`make bench`: per-ticket latency by length bucket, throughput, training time and peak memory.

Timings are measured here and reported, never asserted in tests. Buckets are by the raw ticket's
word-piece token count (before cleaning), so long emails show what cleaning and the token cap buy.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from agent.engine import TriageEngine
from agent.models.bundle import load_models, train_pack
from agent.models.encoder import bundled_tokenizer_path
from agent.pack import load_pack
from agent.state import Ticket
from eval.progress import Progress
from eval.runner import eval_engine

BUCKETS = [(0, 40, "< 40 tokens"), (40, 120, "40-119"), (120, 256, "120-255"), (256, 10**9, ">= 256")]


def _tickets(pack_dir: Path, n_long: int = 150) -> list[str]:
    """The pack's eval and sample texts, plus long emails built from them (quoted thread + signature)."""
    texts = []
    for name in ("eval.jsonl", "samples.jsonl"):
        path = pack_dir / name
        if path.exists():
            texts += [json.loads(line)["text"] for line in path.read_text().splitlines() if line.strip()]
    rng = random.Random(0)
    for _ in range(n_long):
        body = " ".join(rng.sample(texts, 3))
        quoted = "\n".join("> " + line for line in " ".join(rng.sample(texts, 4)).split(". "))
        texts.append(f"Hi team,\n\n{body}\n\nThanks,\nAlex Kim\nOperations | Example Corp\n+1 555 0100\n\n"
                     f"On Mon, 3 Nov 2025 at 09:12, Support wrote:\n{quoted}")
    return texts


def _percentiles(values: list[float]) -> tuple[float, float, float]:
    p50, p95, p99 = (float(np.percentile(values, q)) for q in (50, 95, 99))
    return p50, p95, p99


def _engine(pack_dir: Path, durable_dir: Path | None) -> TriageEngine:
    pack = load_pack(pack_dir)
    models = load_models(pack)
    checkpointer = None
    if durable_dir is not None:
        from service.checkpoints import sqlite_checkpointer

        checkpointer = sqlite_checkpointer(durable_dir / "checkpoints.db")
    return eval_engine(pack, models, checkpointer)


def bench_latency(pack_dir: Path, texts: list[str], durable_dir: Path | None, label: str) -> dict[str, Any]:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(bundled_tokenizer_path()))
    tokenizer.no_padding()  # the upstream file pads and truncates to 128: count the raw length
    tokenizer.no_truncation()
    engine = _engine(pack_dir, durable_dir)
    for i in range(20):  # warm
        engine.run(Ticket(id=f"w{i}", text=texts[i % len(texts)]), run_id=f"warm-{i}")
    by_bucket: dict[str, list[float]] = {name: [] for _, _, name in BUCKETS}
    progress = Progress(len(texts), f"latency ({label})")
    started = time.perf_counter()
    for i, text in enumerate(texts):
        tokens = len(tokenizer.encode(text).ids)
        outcome = engine.run(Ticket(id=f"b{i}", text=text), run_id=f"bench-{label}-{i}")
        name = next(n for lo, hi, n in BUCKETS if lo <= tokens < hi)
        by_bucket[name].append(outcome.latency_ms)
        progress.advance()
    progress.close()
    elapsed = time.perf_counter() - started
    all_values = [v for values in by_bucket.values() for v in values]
    rows = {name: (len(v), *_percentiles(v)) for name, v in by_bucket.items() if v}
    rows["all"] = (len(all_values), *_percentiles(all_values))
    return {"rows": rows, "throughput": len(texts) / elapsed}


def bench_training(pack_dir: Path, work: Path, n: int = 10_000) -> dict[str, Any]:
    """Train on n examples made by recombining the pack's own examples (the time is what is measured)."""
    pack = load_pack(pack_dir)
    examples = pack.examples()
    rng = random.Random(1)
    target = work / "train-pack"
    shutil.copytree(pack_dir, target, ignore=shutil.ignore_patterns(".model"))
    lines = ["text,label"]
    for i in range(n):
        ex = rng.choice(examples)
        words = ex.text.split()
        kept = [w for w in words if rng.random() > 0.15] or words
        text = " ".join(kept) + f" (ref {i})"
        lines.append('"' + text.replace('"', '""') + '",' + ex.label)
    (target / "examples.csv").write_text("\n".join(lines) + "\n")
    started = time.perf_counter()
    train_pack(load_pack(target), progress=lambda m: print(f"  train: {m}", flush=True))
    return {"examples": n, "seconds": time.perf_counter() - started}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pack", type=Path, default=Path("packs/saas_support"))
    parser.add_argument("--out", type=Path, default=Path("bench-out"))
    parser.add_argument("--train-n", type=int, default=10_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="triage-bench-"))
    pack_copy = work / "pack"
    shutil.copytree(args.pack, pack_copy, ignore=shutil.ignore_patterns(".model"))
    t0 = time.perf_counter()
    train_pack(load_pack(pack_copy))
    pack_train_s = time.perf_counter() - t0
    texts = _tickets(pack_copy)
    results = {
        "graph (eval path: no checkpointer)": bench_latency(pack_copy, texts, None, "in-memory"),
        "graph + SQLite checkpoints (at stops)": bench_latency(pack_copy, texts, work, "sqlite"),
    }
    training = bench_training(pack_copy, work, args.train_n)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nPer-ticket latency, warm, one at a time (ms), pack {args.pack}:")
    print(f"{'path':<38} {'bucket':<12} {'n':>5} {'p50':>7} {'p95':>7} {'p99':>7}")
    for path, res in results.items():
        for bucket, (n, p50, p95, p99) in res["rows"].items():
            print(f"{path:<38} {bucket:<12} {n:>5} {p50:>7.2f} {p95:>7.2f} {p99:>7.2f}")
    print(f"\n{'throughput (sequential, one process)':<44}", end="")
    print(", ".join(f"{p}: {r['throughput']:.0f} tickets/s" for p, r in results.items()))
    print(f"{'training the pack':<44}{pack_train_s:.1f} s")
    print(f"{'training on ' + str(training['examples']) + ' examples':<44}{training['seconds']:.1f} s")
    print(f"{'peak memory (RSS)':<44}{peak_mb:.0f} MB")
    args.out.mkdir(exist_ok=True)
    (args.out / "bench.json").write_text(json.dumps({
        "latency": {p: r["rows"] for p, r in results.items()},
        "throughput": {p: r["throughput"] for p, r in results.items()},
        "pack_train_seconds": pack_train_s, "training": training, "peak_rss_mb": peak_mb,
    }, indent=1))
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
