"""Optimised jailbreak suffixes: a detector trained on suffixes sampled the way the attack builds them.

Automated jailbreaks (GCG and its successors) append to a request a string found by a token-level search
over a model's vocabulary, e.g. `... ]]( quietly.Tok \\%{ similarly jsx=sure!!`. Its tokens are chosen
for their effect on one model, so no two suffixes share wording and the guard's main model, trained on
what attacks say, misses many of them: most of its 77 JailbreakBench misses end in one.

This detector learns what such a suffix looks like instead. Its positives are generated at training time
by the same process: random word pieces of the encoder's own vocabulary (agent/assets, 30k pieces),
continuations glued on, symbol runs and the odd "Sure" or "here" the search aims the answer at, appended
to a short benign ticket or to a harmful request (so the request itself teaches nothing). Its negatives are
the guard's benign training text plus guardrails/data/benign_technical.jsonl (450 tickets with HTML bodies,
traces, code, JSON, logs, regexes and other languages: the improbable-looking text support really gets).
Model: a logistic regression over the main model's hashed n-grams (guardrails.injection_features).
Threshold: the highest out-of-fold score of any benign row (two folds), so no benign row of ours is
flagged; it is fitted on our data only. Retrain with `python -m guardrails.suffix` (~30 s).

Why not a character language model (perplexity filter): one counted from benign text scored HTML markup,
regexes and stack traces as improbable as the suffixes (docs/eval.md, session 6).

Measured (`python -m eval.injection_bench`; alongside the rest of the guard): JailbreakBench 0.923 -> 0.951
shipped, 0.896 -> 0.930 with JailbreakBench left out of the main model's training (this detector never
sees it). On its own it flags no row of NotInject, XSTest, DSTC11 or HWU64 (14,075 benign prompts) nor
any of the 200 held-out technical tickets of tests/guardrails/data. With its threshold at the 99.9th
benign percentile instead it caught ~25 more JailbreakBench rows but flagged 5 of those technical tickets,
2 NotInject prompts and 5 of 3,000 HWU64 ones: hence the highest benign score. L2 3e-5 or 1e-4: the same
within 3 rows. Cost: one dot product over features the guard has already computed.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from guardrails.injection_features import N_BUCKETS, PositionedFeatures

MODEL_PATH = Path(__file__).parent / "data" / "suffix_model.npz"
TECHNICAL_TICKETS = Path(__file__).parent / "data" / "benign_technical.jsonl"
VOCABULARY = Path(__file__).resolve().parents[1] / "agent" / "assets" / "minilm-tokenizer.json"
POSITIVES = 3000
L2 = 3e-5
MAX_ITER = 150
SEED = 11
_SYMBOLS = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
_AIMS = ["Sure", "here", "Here", "sure", "is", "Step", "answer"]
_JOINS = [" ", ". ", " - ", "? ", "\n"]

FloatArray = npt.NDArray[np.float32]


class SuffixModelError(RuntimeError):
    """The bundled suffix detector is missing or unreadable (the file and the problem are named)."""


def word_pieces() -> list[str]:
    """The encoder tokenizer's vocabulary, without special and unused entries."""
    vocab = json.loads(VOCABULARY.read_text(encoding="utf-8"))["model"]["vocab"]
    return [piece for piece in vocab if not piece.startswith("[")]


def sample_suffix(rng: random.Random, pieces: Sequence[str]) -> str:
    """A made-up optimised suffix: 10-26 random word pieces and symbol runs (see the module docstring)."""
    tokens: list[str] = []
    for _ in range(rng.randint(10, 26)):
        roll = rng.random()
        if roll < 0.3:
            tokens.append("".join(rng.choice(_SYMBOLS) for _ in range(rng.randint(1, 3))))
        elif roll < 0.36:
            tokens.append(rng.choice(_AIMS))
        else:
            piece = rng.choice(pieces)
            if piece.startswith("##") and tokens:
                tokens[-1] += piece[2:]
            else:
                word = piece.removeprefix("##")
                tokens.append(word.capitalize() if rng.random() < 0.25 else word)
    glued: list[str] = []
    for token in tokens:  # about one in five written without a space before it
        if glued and rng.random() < 0.2:
            glued[-1] += token
        else:
            glued.append(token)
    return " ".join(glued)


@dataclass(frozen=True)
class SuffixDetector:
    weights: FloatArray  # per hashed bucket: the suffix class's logit minus the benign one
    bias: float
    threshold: float

    def score(self, features: PositionedFeatures) -> float:
        buckets, values = features.whole
        return float(self.weights[buckets] @ values + self.bias)

    def flagged(self, features: PositionedFeatures) -> float | None:
        """The score when it is above the threshold, else None."""
        score = self.score(features)
        return score if score > self.threshold else None

    def save(self, path: Path = MODEL_PATH) -> None:
        header = {"n_buckets": N_BUCKETS, "bias": self.bias, "threshold": self.threshold}
        np.savez_compressed(path, header=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8),
                            weights=self.weights.astype(np.float16))


def load(path: Path = MODEL_PATH) -> SuffixDetector:
    """Read what `SuffixDetector.save` wrote (allow_pickle stays off)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(bytes(data["header"]).decode())
            weights = np.asarray(data["weights"], dtype=np.float32)
    except FileNotFoundError:
        raise SuffixModelError(f"{path}: the suffix detector is missing (python -m guardrails.suffix)") from None
    except (OSError, ValueError, KeyError) as exc:
        raise SuffixModelError(f"{path}: not a readable suffix detector ({exc})") from None
    if header.get("n_buckets") != N_BUCKETS or weights.shape != (N_BUCKETS,):
        raise SuffixModelError(f"{path}: built for {header.get('n_buckets')} buckets, this code expects {N_BUCKETS}")
    return SuffixDetector(weights=weights, bias=float(header["bias"]), threshold=float(header["threshold"]))


@lru_cache(maxsize=1)
def bundled() -> SuffixDetector:
    """The shipped detector, loaded once per process."""
    return load()


def training_texts(benign: Sequence[str], harmful: Sequence[str], seed: int = SEED) -> tuple[list[str], list[int]]:
    """Benign texts (label 0) and POSITIVES generated suffix attacks (label 2, the jailbreak class)."""
    rng = random.Random(seed)
    pieces = word_pieces()
    short = [text for text in benign if 20 < len(text) < 300]
    attacks = []
    for _ in range(POSITIVES):
        request = rng.choice(short) if rng.random() < 0.5 else rng.choice(harmful)
        attacks.append(request + rng.choice(_JOINS) + sample_suffix(rng, pieces))
    return [*benign, *attacks], [0] * len(benign) + [2] * len(attacks)


def fit(benign: Sequence[str], harmful: Sequence[str], seed: int = SEED) -> SuffixDetector:
    """Fit on all rows; the threshold is the highest out-of-fold benign score of two folds."""
    from guardrails.injection_model import LinearSoftmax
    from guardrails.injection_train import fit_softmax, hashed_matrix

    texts, labels = training_texts(benign, harmful, seed)
    y = np.array(labels, dtype=np.int64)
    hashed = hashed_matrix(texts)

    def scores(model: LinearSoftmax, rows: npt.NDArray[np.int64]) -> FloatArray:
        logits = np.asarray(hashed[rows] @ model.hashed.T) + model.bias  # benign 0, suffix 2 (1 has no rows)
        out: FloatArray = (logits[:, 2] - logits[:, 0]).astype(np.float32)
        return out

    order = np.random.default_rng(seed).permutation(len(texts))
    halves = (order[0::2], order[1::2])
    held_out_benign: list[float] = []
    for train, test in (halves, halves[::-1]):
        model = fit_softmax(hashed[train], None, y[train], l2=L2, max_iter=MAX_ITER)
        benign_rows = test[y[test] == 0]
        held_out_benign += scores(model, benign_rows).tolist()
    final = fit_softmax(hashed, None, y, l2=L2, max_iter=MAX_ITER)
    weights = (final.hashed[2] - final.hashed[0]).astype(np.float32)
    return SuffixDetector(weights=weights, bias=float(final.bias[2] - final.bias[0]),
                          threshold=max(held_out_benign))


def main() -> None:
    """Train on the guard's benign text, the technical tickets and the corpus's harmful requests."""
    from guardrails.injection_corpus import HARMFUL
    from guardrails.injection_train import bundled_training_set

    data = bundled_training_set()
    benign = [text for text, label in zip(data.texts, data.labels, strict=True) if label == 0]
    benign += [json.loads(line)["text"] for line in TECHNICAL_TICKETS.read_text(encoding="utf-8").splitlines()
               if line.strip()]
    detector = fit(benign, [request[:1].upper() + request[1:] for request in HARMFUL])
    detector.save()
    print(f"trained on {len(benign)} benign rows and {POSITIVES} generated suffixes; "
          f"threshold {detector.threshold:.2f}; wrote {MODEL_PATH}")


if __name__ == "__main__":
    main()
