"""Okapi BM25 over KB articles: the retriever's second lexical signal.

The TF-IDF cosine (agent/models/tfidf.py) compares a ticket with a whole article as two directions, so a
long article whose many customer-question lines share the ticket's words scores no better than a short
one that mentions them once. BM25 counts each query word's occurrences with saturation (k1) and against
the article's length (b), which is what tells apart sibling articles that share most of their vocabulary.
Word weights are precomputed at build time into one articles x words matrix, so scoring a ticket is a
sum of the columns of its distinct words (microseconds at KB scale).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from agent.models.tfidf import tokenize

K1 = 1.2
B = 0.75
# Words so common in tickets and articles alike that matching them says nothing about the article.
STOP_WORDS = frozenset(
    "a an the to of and or in on for is it i my we our you your can how do does be with this that at from "
    "as are not no".split()
)
FloatArray = npt.NDArray[np.float32]


def terms(text: str) -> list[str]:
    """The words BM25 counts: lower-cased tokens without the stop words."""
    return [word for word in tokenize(text) if word not in STOP_WORDS]


class BM25:
    """Per-article BM25 weights of every word, and the vocabulary that indexes them."""

    def __init__(self, vocabulary: dict[str, int], weights: sp.csr_matrix) -> None:
        self.vocabulary = vocabulary
        self.weights = weights  # articles x words

    @classmethod
    def fit(cls, documents: Sequence[str]) -> BM25:
        counts = [Counter(terms(doc)) for doc in documents]
        lengths = np.array([sum(c.values()) for c in counts], dtype=np.float64)
        average = float(lengths.mean()) if len(lengths) and lengths.mean() > 0 else 1.0
        frequency = Counter(word for c in counts for word in c)
        vocabulary = {word: i for i, word in enumerate(sorted(frequency))}
        n = len(documents)
        rows, cols, values = [], [], []
        for row, c in enumerate(counts):
            norm = K1 * (1 - B + B * lengths[row] / average)
            for word, tf in c.items():
                idf = math.log(1 + (n - frequency[word] + 0.5) / (frequency[word] + 0.5))
                rows.append(row)
                cols.append(vocabulary[word])
                values.append(idf * tf * (K1 + 1) / (tf + norm))
        weights = sp.csr_matrix((np.array(values, dtype=np.float32), (rows, cols)), shape=(n, len(vocabulary)))
        return cls(vocabulary, weights)

    def scores(self, text: str) -> FloatArray:
        """Each article's BM25 score for the text, divided by the best article's (so in [0, 1])."""
        columns = sorted({self.vocabulary[w] for w in terms(text) if w in self.vocabulary})
        if not columns:
            return np.zeros(self.weights.shape[0], dtype=np.float32)
        raw = np.asarray(self.weights[:, columns].sum(axis=1), dtype=np.float32).ravel()
        top = float(raw.max())
        return raw / top if top > 0 else raw
