"""Where an eval ran, recorded in report.json so a cited number can be reproduced.

The encoder's matrix products run in int8 (agent/models/quantize.py), onnxruntime picks its int8 kernels
by the CPU's instruction set, and unpinned packages move between installs. Until the encoder's weights
were made unsigned, its AVX2 kernel saturated where a VNNI one did not, and the same commit and data gave
the default pack's eval accuracy 0.925 and 0.918 on two development machines (three tickets of 474), and
0.940 and 0.933 on two others (AVX-512 VNNI and AVX2 only). Unsigned weights take exact integer kernels
everywhere, so what is left between CPUs is float rounding and package versions: small, not nothing. The
report names the CPU's relevant instruction sets and the package versions that take part in the numbers,
so two reports can be told apart before they are compared.
"""

from __future__ import annotations

import os
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

# Packages whose version can move an eval number: the encoder runtime and tokenizer, the maths.
NUMERIC_PACKAGES = ("onnxruntime", "onnx", "tokenizers", "numpy", "scipy")
# CPU features onnxruntime's int8 and float kernels choose between (x86 flag names, then Arm's).
KERNEL_FLAGS = ("avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "amx_int8",
                "asimd", "asimddp", "i8mm")


def _cpuinfo(path: Path = Path("/proc/cpuinfo")) -> dict[str, str]:
    """The first processor's fields from /proc/cpuinfo ({} where there is none: macOS, Windows)."""
    fields: dict[str, str] = {}
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return fields
    for line in text.splitlines():
        if not line.strip():
            if fields:
                break
            continue
        key, _, value = line.partition(":")
        fields.setdefault(key.strip().lower(), value.strip())
    return fields


def cpu_description(cpuinfo: dict[str, str]) -> dict[str, Any]:
    """The CPU's model name and which of the kernel-relevant instruction sets it has."""
    flags = set((cpuinfo.get("flags") or cpuinfo.get("features") or "").split())
    model = cpuinfo.get("model name") or cpuinfo.get("cpu model") or platform.processor() or None
    return {
        "model": model,
        "architecture": platform.machine() or None,
        "cores": os.cpu_count(),
        "kernel_flags": [flag for flag in KERNEL_FLAGS if flag in flags] if flags else None,
    }


def _version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def environment() -> dict[str, Any]:
    """Python, operating system, CPU and numeric package versions of this process."""
    return {
        "python": platform.python_version(),
        "os": platform.platform(terse=True),
        "cpu": cpu_description(_cpuinfo()),
        "packages": {name: _version(name) for name in NUMERIC_PACKAGES},
    }
