"""`python -m eval.injection_bench`: the injection guard on the public development sets, three ways.

(a) shipped: the bundled model (trained only on the project's own corpus) on every set.
(b) cv: 5-fold cross-validation with the public attack and benign sets ALSO in training (the measured
    fold never is), to show what in-distribution data would add.
(c) lodo: leave one dataset out: train on the corpus plus every public set but one, test on that one.
Plus the added latency of guarding (rules + whole-text model + spans) on the starter pack's tickets.

Sets are read exactly as `devbench injection` reads them (../shared/tools/devbench.py): CyberSecEval
`user_input`, JailbreakBench unique `prompt`s, NotInject prompts, XSTest `safe` prompts, DSTC11
utterances, plus every HWU64 text. Recall = share of attack rows FLAGGED; FPR = share of benign rows
flagged. The datasets are not part of the project: without them this prints a message and exits 0.
"""

from __future__ import annotations

import argparse
import csv
import functools
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from guardrails.injection import detect_with
from guardrails.injection_model import CLASSES, InjectionModel, bundled_model
from guardrails.injection_train import TrainingSet, bundled_training_set, encode_like_guard, fit_model

DEFAULT_DATA = Path(os.environ.get("TRIAGE_DATASETS", Path(__file__).resolve().parents[2] / "shared" / "datasets"))
ATTACK_LABEL = {"cyberseceval": "injection", "jailbreakbench": "jailbreak"}
PLAIN_SETS = {"dstc11_benign", "hwu64_benign"}
# HWU64 has 11k short commands; a sample of them in each training fold is enough and keeps a fit ~1 minute.
HWU64_TRAIN_SAMPLE = 3000
# Cross-validation fits many models: fewer L-BFGS iterations than the shipped model's 300 keep it affordable.
BENCH_MAX_ITER = 120
# ...and one held-out fold of one fold assignment sets the thresholds (the shipped model pools 5 x 5 folds).
BENCH_FIT: dict[str, Any] = {"calibration_folds": 1, "calibration_seeds": 1, "max_iter": BENCH_MAX_ITER}


@dataclass
class Dataset:
    name: str
    texts: list[str]
    is_attack: bool


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def load_sets(data: Path) -> list[Dataset]:
    """The public sets, read as devbench reads them."""
    sets = [Dataset("cyberseceval", [r["user_input"] for r in _json(data / "cyberseceval_prompt_injection"
                                                                          / "prompt_injection.json")], True)]
    with (data / "jbb_artifacts_prompts" / "jbb_attack_prompts.csv").open(encoding="utf-8") as f:
        sets.append(Dataset("jailbreakbench", sorted({r["prompt"] for r in csv.DictReader(f) if r["prompt"]}), True))
    sets.append(Dataset("notinject_benign", [r["prompt"] for k in ("one", "two", "three")
                                             for r in _json(data / "notinject" / f"NotInject_{k}.json")], False))
    with (data / "xstest" / "xstest_prompts.csv").open(encoding="utf-8") as f:
        sets.append(Dataset("xstest_safe_benign", [r["prompt"] for r in csv.DictReader(f) if r["label"] == "safe"],
                            False))
    sets.append(Dataset("dstc11_benign", [
        json.loads(line)["utterance"]
        for name in ("banking_test", "finance_test", "insurance_dev_test")
        for line in (data / "dstc11_intents" / f"{name}-utterances.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()], False))
    with (data / "hwu64" / "hwu64_all_folds.csv").open(encoding="utf-8") as f:
        sets.append(Dataset("hwu64_benign", [r["text"] for r in csv.DictReader(f)], False))
    return sets


@functools.cache
def _encoder_name() -> str:
    """The name of the encoder guard_input would use now (loaded once per process)."""
    from agent.models.encoder import load_encoder

    return load_encoder().name


def cached_vectors(texts: list[str], cache_dir: Path) -> np.ndarray:
    """Guard-style vectors for `texts`, cached outside the project, keyed by the texts' digest and the
    encoder that would embed them now (vectors of another encoder variant must not be reused)."""
    # "alone": vectors of texts encoded one at a time (agent/models/encoder.py); batched ones are not reused.
    key = "\x00".join([_encoder_name(), "alone", *texts])
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    path = cache_dir / f"vectors-{digest}.npy"
    if path.exists():
        cached: np.ndarray = np.load(path, allow_pickle=False)
        return cached
    vectors, _ = encode_like_guard(texts)
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def flag_rate(model: InjectionModel, texts: list[str], vectors: np.ndarray) -> float:
    """Share of texts the guard flags (rules + whole-text model + spans)."""
    flagged = sum(bool(detect_with(model, text, vectors[i]).flags) for i, text in enumerate(texts))
    return flagged / max(len(texts), 1)


def _row(ds: Dataset, rate: float) -> dict[str, Any]:
    return {"n": len(ds.texts), "recall" if ds.is_attack else "fpr": round(rate, 4)}


def run_shipped(sets: list[Dataset], vectors: dict[str, np.ndarray]) -> dict[str, Any]:
    model = bundled_model()
    return {ds.name: _row(ds, flag_rate(model, ds.texts, vectors[ds.name])) for ds in sets}


def _with_public(base: TrainingSet, base_vectors: np.ndarray, parts: list[tuple[Dataset, np.ndarray, np.ndarray]],
                 seed: int) -> TrainingSet:
    """The bundled training set plus the given rows (indices into each dataset) of public sets."""
    texts, labels, groups, vecs = list(base.texts), list(base.labels), list(base.groups), [base_vectors]
    rng = np.random.default_rng(seed)
    for ds, rows, ds_vectors in parts:
        if ds.name == "hwu64_benign" and len(rows) > HWU64_TRAIN_SAMPLE:
            rows = rng.choice(rows, HWU64_TRAIN_SAMPLE, replace=False)
        texts += [ds.texts[i] for i in rows]
        label = CLASSES.index(ATTACK_LABEL.get(ds.name, "benign"))
        labels += [label] * len(rows)
        group = "attack" if ds.is_attack else "plain" if ds.name in PLAIN_SETS else "hard"
        groups += [group] * len(rows)
        vecs.append(ds_vectors[rows])
    return TrainingSet(texts, np.array(labels, dtype=np.int64), groups, np.concatenate(vecs).astype(np.float32))


def run_cv(sets: list[Dataset], vectors: dict[str, np.ndarray], base: TrainingSet, encoder: str,
           folds: int = 5, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Each public set split into `folds` folds; fold k of every set is measured by a model trained without it."""
    assert base.vectors is not None
    rng = np.random.default_rng(0)
    fold_of = {ds.name: rng.permutation(len(ds.texts)) % folds for ds in sets}
    flagged = {ds.name: 0 for ds in sets}
    for fold in range(folds):
        train = [(ds, np.flatnonzero(fold_of[ds.name] != fold), vectors[ds.name]) for ds in sets]
        model = fit_model(_with_public(base, base.vectors, train, fold), encoder, **BENCH_FIT)
        for ds in sets:
            test = np.flatnonzero(fold_of[ds.name] == fold)
            texts = [ds.texts[i] for i in test]
            flagged[ds.name] += round(flag_rate(model, texts, vectors[ds.name][test]) * len(test))
        log(f"  cv fold {fold + 1}/{folds} done: {dict(flagged)}")
    return {ds.name: _row(ds, flagged[ds.name] / len(ds.texts)) for ds in sets}


def run_lodo(sets: list[Dataset], vectors: dict[str, np.ndarray], base: TrainingSet, encoder: str,
             held_out: set[str], log: Callable[[str], None] = print) -> dict[str, Any]:
    """For each set in `held_out`: train on the corpus and every other public set, measure on the one left out."""
    assert base.vectors is not None
    out = {}
    for held in sets:
        if held.name not in held_out:
            continue
        train = [(ds, np.arange(len(ds.texts)), vectors[ds.name]) for ds in sets if ds.name != held.name]
        model = fit_model(_with_public(base, base.vectors, train, 0), encoder, **BENCH_FIT)
        out[held.name] = _row(held, flag_rate(model, held.texts, vectors[held.name]))
        log(f"  lodo without {held.name}: {out[held.name]}")
    return out


def run_latency(pack_dir: Path) -> dict[str, Any]:
    """Per-ticket p50/p95 of the whole injection check, and without its main model (rules and the suffix
    detector), on the pack's eval tickets and long emails."""
    from eval.bench import _tickets  # the same ticket mix `make bench` times

    texts = _tickets(pack_dir, n_long=100)
    vectors = cached_vectors(texts, Path(tempfile.gettempdir()) / "triage-injection-bench")
    model = bundled_model()
    timings: dict[str, list[float]] = {"guard": [], "without_model": []}
    for _ in range(2):  # the first pass warms caches; keep the second
        timings = {"guard": [], "without_model": []}
        for i, text in enumerate(texts):
            for key, chosen in (("guard", model), ("without_model", None)):
                start = time.perf_counter()
                detect_with(chosen, text, vectors[i])
                timings[key].append((time.perf_counter() - start) * 1000)
    result: dict[str, Any] = {"n": len(texts)}
    for key, values in timings.items():
        result[key] = {"p50_ms": round(statistics.median(values), 3),
                       "p95_ms": round(float(np.percentile(values, 95)), 3)}
    result["model_p50_ms"] = round(result["guard"]["p50_ms"] - result["without_model"]["p50_ms"], 3)
    return result


def _table(results: dict[str, Any]) -> str:
    names = list(results.get("shipped") or results.get("cv") or results.get("lodo") or {})
    parts = [p for p in ("shipped", "cv", "lodo") if p in results]
    names = [n for n in names if all(n in results[p] for p in parts)] + \
        [n for n in names if not all(n in results[p] for p in parts)]
    lines = [f"{'set':22} {'n':>6} {'metric':>7} " + " ".join(f"{p:>8}" for p in parts)]
    for name in names:
        first = next(results[p][name] for p in parts if name in results[p])
        metric = "recall" if "recall" in first else "fpr"
        cells = " ".join(f"{results[p][name][metric]:8.3f}" if name in results[p] else f"{'-':>8}" for p in parts)
        lines.append(f"{name:22} {first['n']:6d} {metric:>7} {cells}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared datasets folder")
    parser.add_argument("--parts", default="shipped,cv,lodo,latency", help="comma-separated parts to run")
    parser.add_argument("--pack", type=Path, default=Path("packs/saas_support"), help="pack for the latency run")
    parser.add_argument("--lodo-sets", default="cyberseceval,jailbreakbench,notinject_benign,xstest_safe_benign",
                        help="sets to leave out one at a time (each costs one training run)")
    parser.add_argument("--out", type=Path, default=Path("eval-out/injection_bench.json"))
    args = parser.parse_args(argv)
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    results: dict[str, Any] = {}
    if "latency" in parts:
        results["latency"] = run_latency(args.pack)
        print(f"latency per ticket: {results['latency']}")
    if parts & {"shipped", "cv", "lodo"}:
        if not (args.data / "cyberseceval_prompt_injection").is_dir():
            print(f"no datasets at {args.data}: skipping the accuracy parts (set TRIAGE_DATASETS or --data)")
        else:
            sets = load_sets(args.data)
            cache = Path(tempfile.gettempdir()) / "triage-injection-bench"
            vectors = {ds.name: cached_vectors(ds.texts, cache) for ds in sets}
            if "shipped" in parts:
                results["shipped"] = run_shipped(sets, vectors)
            if parts & {"cv", "lodo"}:
                base = bundled_training_set()
                base.vectors, encoder = encode_like_guard(base.texts)
                if "cv" in parts:
                    results["cv"] = run_cv(sets, vectors, base, encoder)
                if "lodo" in parts:
                    held_out = {name.strip() for name in args.lodo_sets.split(",")}
                    results["lodo"] = run_lodo(sets, vectors, base, encoder, held_out)
            print(_table(results))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
