"""The MiniLM model with int8 matrix products, derived once from the shipped int8 file and cached.

The shipped model stores its weights as int8 with a scale per row, but onnxruntime folds them back to
float32 when it loads the file, so every matrix product runs in float32. Dynamic quantization (int8
weights per output channel, activations quantized per call) runs the same products on the CPU's int8
instructions. Measured here (2 cores, eval tickets of the default pack, p50 29 tokens): encoding takes
0.55 of the float32 time; vectors keep a cosine of 0.995 on average (0.976 at worst) to the float32 ones;
retrained on them, the default pack's 5-fold CV accuracy is 0.908 (0.911 in float32, within one
standard error) and no `never` ticket is handled alone. Leaving the feed-forward output products in
float32 keeps a cosine of 0.998 but saves only 0.30 of the time; weight-only block quantization
(MatMulNBits) was slower than float32 at these sequence lengths.

The weights are stored unsigned (uint8 with a zero point per channel), not signed. With signed weights
onnxruntime multiplies uint8 activations by int8 weights, and on an x86 CPU without VNNI (AVX2 only) that
kernel adds pairs of products in 16 bits, which saturate: the vectors then depend on the CPU, not only on
the text. Measured on one AVX2-only machine (AMD EPYC, onnxruntime 1.32.0), default pack trained and
evaluated there: signed weights gave eval accuracy 0.933 and grounding 0.899, dev set 0.877 and 0.864,
while the same commit had given 0.940 / 0.899 and 0.894 / 0.884 on an AVX-512 VNNI machine; float32
products gave 0.937 / 0.899 and 0.890 / 0.884, unsigned weights 0.942 / 0.906 and 0.890 / 0.880. Both
operands unsigned take a kernel that widens to 16 bits before multiplying and adds in 32 bits, exact on
every CPU, so what is left between CPUs is float rounding. On that machine 331 dev tickets, one at a
time, took 5.24 s in float32, 4.18 s signed and 3.59 s unsigned; mean cosine to float32 0.993 signed
(0.981 at worst), 0.994 unsigned (0.988 at worst).

Deriving takes about 1.5 s and needs the `onnx` package; the result is cached under the user's cache
directory, named after the source file's digest and the onnx/onnxruntime versions (a new version derives
a new file), written to a temporary name and renamed, so concurrent processes never read half a file.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
from pathlib import Path

from agent.models.encoder import file_sha256

logger = logging.getLogger(__name__)

CACHE_ENV = "TRIAGE_CACHE_DIR"


def cache_dir() -> Path:
    """TRIAGE_CACHE_DIR, else $XDG_CACHE_HOME/triage-agent, else ~/.cache/triage-agent."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "triage-agent"


def dynamic_int8_path(source: Path, source_sha256: str, signed_weights: bool = False) -> Path:
    """The cached dynamic-int8 model derived from `source` (derived now if missing or damaged).

    `signed_weights` derives the variant packs trained before unsigned weights were chosen (see above).
    A sidecar file holds the derived file's digest: a truncated or edited cache file is derived again
    instead of being loaded."""
    import onnx
    import onnxruntime

    variant = "int8" if signed_weights else "u8u8"
    name = (f"minilm-dynamic-{variant}-{source_sha256[:16]}-onnx{onnx.__version__}"
            f"-ort{onnxruntime.__version__}.onnx")
    target = cache_dir() / name
    sidecar = target.with_suffix(".sha256")
    if target.exists() and sidecar.exists() and sidecar.read_text().strip() == file_sha256(target):
        return target
    try:
        return _derive(source, target, sidecar, signed_weights)
    except OSError as exc:  # a read-only home in a container, say: derive for this process only
        private = Path(tempfile.mkdtemp(prefix="triage-encoder-"))
        atexit.register(shutil.rmtree, private, ignore_errors=True)
        logger.warning("cannot write the encoder cache %s (%s): deriving into %s for this process; set %s to a "
                       "writable directory to derive it once", target.parent, exc, private, CACHE_ENV)
        return _derive(source, private / name, private / sidecar.name, signed_weights)


def _derive(source: Path, target: Path, sidecar: Path, signed_weights: bool) -> Path:
    logger.info("deriving the int8 encoder model into %s (once)", target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        folded = Path(work) / "float32.onnx"
        _fold_weights(source, folded)
        quantized = Path(work) / "dynamic.onnx"
        _quantize(folded, quantized, signed_weights)
        digest = file_sha256(quantized)
        os.replace(quantized, target)
    sidecar_tmp = sidecar.with_name(f"{sidecar.name}.{os.getpid()}")
    sidecar_tmp.write_text(digest + "\n")
    os.replace(sidecar_tmp, sidecar)
    return target


def _fold_weights(source: Path, out: Path) -> None:
    """Let onnxruntime's basic optimizations fold the int8 weight storage to float32 and save the graph."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = str(out)
    ort.InferenceSession(str(source), sess_options=options, providers=["CPUExecutionProvider"])


def _quantize(folded: Path, out: Path, signed_weights: bool) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # The quantizer logs advice about pre-processing that applies to static quantization, not this.
    quiet = logging.getLogger()
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        quantize_dynamic(str(folded), str(out), per_channel=True,
                         weight_type=QuantType.QInt8 if signed_weights else QuantType.QUInt8,
                         op_types_to_quantize=["MatMul"])
    finally:
        quiet.setLevel(level)
