"""The report's record of the machine: which CPU features chose the int8 kernels, read from /proc/cpuinfo."""

from __future__ import annotations

from pathlib import Path

from eval.environment import _cpuinfo, cpu_description

X86 = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 9R14
flags\t\t: fpu sse2 avx2 fma avx512f avx512bw avx512_vnni

processor\t: 1
model name\t: a second core that must not be read
flags\t\t: fpu
"""

ARM = """processor\t: 0
BogoMIPS\t: 243.75
Features\t: fp asimd evtstrm aes asimddp sha512 i8mm
CPU implementer\t: 0x41
"""


def test_x86_cpu_is_named_with_its_int8_kernel_flags(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text(X86)
    cpu = cpu_description(_cpuinfo(info))
    assert cpu["model"] == "AMD EPYC 9R14"
    assert cpu["kernel_flags"] == ["avx2", "fma", "avx512f", "avx512bw", "avx512_vnni"]


def test_arm_features_are_read_too(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text(ARM)
    assert cpu_description(_cpuinfo(info))["kernel_flags"] == ["asimd", "asimddp", "i8mm"]


def test_a_machine_without_cpuinfo_reports_unknown_flags_not_an_error(tmp_path: Path) -> None:
    cpu = cpu_description(_cpuinfo(tmp_path / "absent"))
    assert cpu["kernel_flags"] is None and cpu["cores"] is not None
