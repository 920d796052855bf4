"""A small TF-IDF vectorizer: word uni/bigrams and character n-grams within words.

It exists so the classifier's sparse features load and run without scikit-learn (whose import alone
costs ~0.8 s) and persist as plain JSON (vocabulary) plus an .npy array (idf), which execute no code
when loaded. Each block (words, characters) is weighted with sublinear tf * smoothed idf and
L2-normalised on its own, so a long ticket's many character n-grams do not drown its words.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

_WORD = re.compile(r"\w+")

IntArray = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float32]


def word_features(words: Sequence[str], ngrams: tuple[int, int]) -> list[str]:
    """Word n-grams (joined by a space) of the given length range."""
    lo, hi = ngrams
    feats: list[str] = []
    for n in range(max(lo, 1), hi + 1):
        feats.extend(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
    return feats


def char_features(words: Sequence[str], ngrams: tuple[int, int]) -> list[str]:
    """Character n-grams inside each word padded with one space each side (no cross-word n-grams)."""
    lo, hi = ngrams
    feats: list[str] = []
    for word in words:
        padded = f" {word} "
        size = len(padded)
        for n in range(max(lo, 1), min(hi, size) + 1):
            feats.extend(padded[i : i + n] for i in range(size - n + 1))
    return feats


def _pair(value: Any) -> tuple[int, int] | None:
    return (int(value[0]), int(value[1])) if value else None


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens (letters, digits, underscore; any script)."""
    return _WORD.findall(text.lower())


class TfidfVectorizer:
    """Fit on training texts, then map any text to a sparse, per-block L2-normalised vector.

    Columns are [word n-grams | character n-grams]. A block whose n-gram range is None is left out.
    """

    def __init__(
        self,
        word_ngrams: tuple[int, int] | None = (1, 2),
        char_ngrams: tuple[int, int] | None = (2, 5),
        min_df_word: int = 1,
        min_df_char: int = 2,
        max_features: int = 60_000,
    ) -> None:
        if word_ngrams is None and char_ngrams is None:
            raise ValueError("TfidfVectorizer needs word n-grams, character n-grams or both")
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.min_df_word = min_df_word
        self.min_df_char = min_df_char
        self.max_features = max_features
        self.word_vocab: dict[str, int] = {}
        self.char_vocab: dict[str, int] = {}
        self.idf: FloatArray = np.zeros(0, dtype=np.float32)

    # --- fitting -------------------------------------------------------------------------------------

    @property
    def n_features(self) -> int:
        return len(self.word_vocab) + len(self.char_vocab)

    def _blocks(self, text: str) -> tuple[list[str], list[str]]:
        words = tokenize(text)
        w = word_features(words, self.word_ngrams) if self.word_ngrams else []
        c = char_features(words, self.char_ngrams) if self.char_ngrams else []
        return w, c

    @staticmethod
    def _select(df: Counter[str], min_df: int, max_features: int) -> list[str]:
        kept = [t for t, n in df.items() if n >= min_df]
        if len(kept) > max_features:
            # Keep the most frequent terms; ties broken by the term itself, so fitting is deterministic.
            kept.sort(key=lambda t: (-df[t], t))
            kept = kept[:max_features]
        return sorted(kept)

    def fit(self, texts: Iterable[str]) -> TfidfVectorizer:
        """Learn the vocabularies and idf weights from the training texts."""
        word_df: Counter[str] = Counter()
        char_df: Counter[str] = Counter()
        n_docs = 0
        for text in texts:
            w, c = self._blocks(text)
            word_df.update(set(w))
            char_df.update(set(c))
            n_docs += 1
        words = self._select(word_df, self.min_df_word, self.max_features)
        chars = self._select(char_df, self.min_df_char, self.max_features)
        self.word_vocab = {t: i for i, t in enumerate(words)}
        self.char_vocab = {t: i + len(words) for i, t in enumerate(chars)}
        df = np.array([word_df[t] for t in words] + [char_df[t] for t in chars], dtype=np.float64)
        # Smoothed idf, as if one extra document held every term once: never zero, never infinite.
        self.idf = (np.log((1.0 + n_docs) / (1.0 + df)) + 1.0).astype(np.float32)
        return self

    # --- transforming --------------------------------------------------------------------------------

    def _weigh(self, feats: list[str], vocab: dict[str, int]) -> tuple[list[int], list[float]]:
        counts = Counter(vocab[f] for f in feats if f in vocab)
        if not counts:
            return [], []
        cols = sorted(counts)
        vals = [(1.0 + math.log(counts[j])) * float(self.idf[j]) for j in cols]
        norm = math.sqrt(sum(v * v for v in vals))
        return cols, [v / norm for v in vals]

    def transform_one(self, text: str) -> tuple[IntArray, FloatArray]:
        """One text as (column indices, values), the fast path used at prediction time."""
        w, c = self._blocks(text)
        wc, wv = self._weigh(w, self.word_vocab)
        cc, cv = self._weigh(c, self.char_vocab)
        return np.array(wc + cc, dtype=np.int32), np.array(wv + cv, dtype=np.float32)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Many texts as a CSR matrix [n_texts, n_features] (float32)."""
        indptr = [0]
        indices: list[int] = []
        data: list[float] = []
        for text in texts:
            w, c = self._blocks(text)
            for cols, vals in (self._weigh(w, self.word_vocab), self._weigh(c, self.char_vocab)):
                indices.extend(cols)
                data.extend(vals)
            indptr.append(len(indices))
        return sp.csr_matrix(
            (np.array(data, dtype=np.float32), np.array(indices, dtype=np.int32), np.array(indptr)),
            shape=(len(texts), self.n_features),
        )

    # --- persistence ---------------------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        return {
            "word_ngrams": list(self.word_ngrams) if self.word_ngrams else None,
            "char_ngrams": list(self.char_ngrams) if self.char_ngrams else None,
            "min_df_word": self.min_df_word,
            "min_df_char": self.min_df_char,
            "max_features": self.max_features,
        }

    def save(self, directory: Path, prefix: str = "tfidf") -> None:
        """Write <prefix>_vocab.json and <prefix>_idf.npy."""
        meta = {"config": self.config(), "word_vocab": self.word_vocab, "char_vocab": self.char_vocab}
        (directory / f"{prefix}_vocab.json").write_text(json.dumps(meta, ensure_ascii=False))
        np.save(directory / f"{prefix}_idf.npy", self.idf, allow_pickle=False)

    @classmethod
    def load(cls, directory: Path, prefix: str = "tfidf") -> TfidfVectorizer:
        """Read what save() wrote; never executes code from the files."""
        meta = json.loads((directory / f"{prefix}_vocab.json").read_text())
        cfg = meta["config"]
        vec = cls(
            word_ngrams=_pair(cfg["word_ngrams"]),
            char_ngrams=_pair(cfg["char_ngrams"]),
            min_df_word=int(cfg["min_df_word"]),
            min_df_char=int(cfg["min_df_char"]),
            max_features=int(cfg["max_features"]),
        )
        vec.word_vocab = {str(k): int(v) for k, v in meta["word_vocab"].items()}
        vec.char_vocab = {str(k): int(v) for k, v in meta["char_vocab"].items()}
        idf = np.load(directory / f"{prefix}_idf.npy", allow_pickle=False)
        vec.idf = np.asarray(idf, dtype=np.float32)
        if vec.idf.shape != (vec.n_features,):
            raise ValueError(
                f"{directory}: {prefix}_idf.npy has shape {vec.idf.shape}, expected ({vec.n_features},)"
            )
        return vec
