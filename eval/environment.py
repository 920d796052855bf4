"""Where an eval ran, recorded in report.json so a cited number can be reproduced.

The encoder's matrix products run in int8 (agent/models/quantize.py), and onnxruntime picks its int8
kernels by the CPU's instruction set (onnxruntime documents that its AVX2 int8 kernel can saturate where
a VNNI one does not), and unpinned packages move between installs. So the same commit and data can give
slightly different vectors on two machines, and a ticket near a decision boundary lands on the other side.
Seen here: the default pack's eval at one commit on two development machines (the second an AMD EPYC with
AVX-512 VNNI, onnxruntime 1.32.0): accuracy 0.925 and 0.918 (three tickets of 474), grounding 0.877 and
0.873. The report names the CPU's relevant instruction sets and the package versions that take part in the
numbers, so two reports can be told apart before they are compared.
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
