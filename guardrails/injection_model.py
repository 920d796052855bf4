"""The learned part of the injection guard: two linear softmax models over benign / injection / jailbreak.

- whole text: the ticket's shared MiniLM vector (already computed by guard_input) plus hashed n-grams of the
  de-obfuscated text. The vector carries meaning across wordings the corpus never used; the n-grams
  carry the markup, foreign-language and adversarial-suffix signals an English sentence encoder misses.
- spans: hashed n-grams only, scored over every sentence / line / pair of a longer text in one cumulative
  pass (guardrails.injection_features), so a single planted sentence in a long email is not diluted.

Scores are attack log-odds: log(p_injection + p_jailbreak) - log(p_benign). Thresholds were calibrated on
the corpus' own benign rows (out-of-fold), never on the public benchmark sets. The artifact is an .npz of
arrays plus a JSON header: loading it executes no code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from guardrails.injection_features import N_BUCKETS, PositionedFeatures

MODEL_PATH = Path(__file__).parent / "data" / "injection_model.npz"
CLASSES = ("benign", "injection", "jailbreak")

FloatArray = npt.NDArray[np.float32]


class InjectionModelError(RuntimeError):
    """The bundled injection model is missing or malformed (the file and the problem are named)."""


@dataclass(frozen=True)
class LinearSoftmax:
    """logits = hashed @ x + dense @ vector + bias, one row per class."""

    hashed: FloatArray
    bias: FloatArray
    dense: FloatArray | None = None

    def logits(self, buckets: npt.NDArray[np.int64], values: FloatArray, vector: FloatArray | None) -> FloatArray:
        out: FloatArray = (self.hashed[:, buckets] @ values + self.bias).astype(np.float32)
        if self.dense is not None and vector is not None:
            out = out + self.dense @ vector
        return out


def attack_log_odds(logits: FloatArray) -> FloatArray:
    """log(p_injection + p_jailbreak) - log(p_benign), for a (classes,) or (classes, n) array."""
    attack = np.logaddexp(logits[1], logits[2])
    odds: FloatArray = (attack - logits[0]).astype(np.float32)
    return odds


@dataclass(frozen=True)
class SpanHit:
    start: int
    end: int
    score: float
    label: str


@dataclass(frozen=True)
class InjectionModel:
    whole: LinearSoftmax
    """Dense (MiniLM) + n-gram model for the whole ticket."""
    ngram_whole: LinearSoftmax
    """N-gram-only model: spans, and the whole ticket when no compatible vector is given."""
    encoder_name: str
    encoder_dim: int
    whole_threshold: float
    ngram_whole_threshold: float
    span_threshold: float

    def score_whole(self, features: PositionedFeatures, vector: FloatArray | None) -> tuple[float, str]:
        """The whole text's attack log-odds and its likelier attack class."""
        buckets, values = features.whole
        usable = vector is not None and vector.shape == (self.encoder_dim,)
        model = self.whole if usable else self.ngram_whole
        logits = model.logits(buckets, values, vector if usable else None)
        return float(attack_log_odds(logits)), CLASSES[1 + int(logits[2] > logits[1])]

    def whole_flagged(self, score: float, with_vector: bool) -> bool:
        return score >= (self.whole_threshold if with_vector else self.ngram_whole_threshold)

    def span_hits(self, features: PositionedFeatures, spans: list[tuple[int, int]]) -> list[SpanHit]:
        """Spans whose n-gram score passes the span threshold, best first."""
        if not spans or len(features.buckets) == 0:
            return []
        contributions = self.ngram_whole.hashed[:, features.buckets]
        cumulative = np.concatenate([np.zeros((len(CLASSES), 1), np.float32), np.cumsum(contributions, axis=1)], 1)
        bounds = np.array(spans, dtype=np.int64)
        first = np.searchsorted(features.starts, bounds[:, 0], side="left")
        last = np.searchsorted(features.starts, bounds[:, 1], side="left")
        counts = np.maximum(last - first, 1).astype(np.float32)
        sums = cumulative[:, last] - cumulative[:, first]
        logits = (sums / np.sqrt(counts) + self.ngram_whole.bias[:, None]).astype(np.float32)
        odds = attack_log_odds(logits)
        hits = [SpanHit(int(bounds[i, 0]), int(bounds[i, 1]), float(odds[i]),
                        CLASSES[1 + int(logits[2, i] > logits[1, i])])
                for i in np.flatnonzero((odds >= self.span_threshold) & (last > first))]
        return sorted(hits, key=lambda h: -h.score)

    def save(self, path: Path = MODEL_PATH) -> None:
        """Arrays in a compressed .npz, settings in its `header` entry (JSON): nothing executable."""
        header = {"classes": list(CLASSES), "n_buckets": N_BUCKETS, "encoder_name": self.encoder_name,
                  "encoder_dim": self.encoder_dim, "whole_threshold": self.whole_threshold,
                  "ngram_whole_threshold": self.ngram_whole_threshold, "span_threshold": self.span_threshold}
        dense = self.whole.dense if self.whole.dense is not None else np.zeros((len(CLASSES), 0), np.float32)
        np.savez_compressed(
            path, header=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8),
            whole_hashed=self.whole.hashed.astype(np.float16), whole_bias=self.whole.bias,
            whole_dense=dense.astype(np.float32), ngram_hashed=self.ngram_whole.hashed.astype(np.float16),
            ngram_bias=self.ngram_whole.bias)


def load_model(path: Path = MODEL_PATH) -> InjectionModel:
    """Read an artifact written by `InjectionModel.save` (allow_pickle stays off)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(bytes(data["header"]).decode())
            arrays = {k: np.asarray(data[k], dtype=np.float32) for k in
                      ("whole_hashed", "whole_bias", "whole_dense", "ngram_hashed", "ngram_bias")}
    except FileNotFoundError:
        raise InjectionModelError(f"{path}: the injection model is missing (python -m guardrails.injection_train)")\
            from None
    except (OSError, ValueError, KeyError) as exc:
        raise InjectionModelError(f"{path}: not a readable injection model ({exc})") from None
    if header.get("n_buckets") != N_BUCKETS or tuple(header.get("classes", ())) != CLASSES:
        raise InjectionModelError(f"{path}: built for {header.get('n_buckets')} buckets / classes "
                                  f"{header.get('classes')}, this code expects {N_BUCKETS} / {list(CLASSES)}")
    dense = arrays["whole_dense"] if arrays["whole_dense"].shape[1] else None
    return InjectionModel(
        whole=LinearSoftmax(arrays["whole_hashed"], arrays["whole_bias"], dense),
        ngram_whole=LinearSoftmax(arrays["ngram_hashed"], arrays["ngram_bias"]),
        encoder_name=str(header["encoder_name"]), encoder_dim=int(header["encoder_dim"]),
        whole_threshold=float(header["whole_threshold"]),
        ngram_whole_threshold=float(header["ngram_whole_threshold"]),
        span_threshold=float(header["span_threshold"]),
    )


@lru_cache(maxsize=1)
def bundled_model() -> InjectionModel:
    """The shipped model, loaded once per process."""
    return load_model()
