"""The no-network guarantee: the guard itself works, and the whole offline path runs under it."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from tests import netguard_rules


def test_guard_refuses_remote_addresses_before_connecting(monkeypatch: pytest.MonkeyPatch) -> None:
    def must_not_run(*args: Any) -> None:
        raise AssertionError("the real connect was reached")

    monkeypatch.setattr(netguard_rules, "_original_connect", must_not_run)
    with socket.socket() as s, pytest.raises(netguard_rules.NetworkBlocked):
        s.connect(("93.184.216.34", 443))
    with pytest.raises(netguard_rules.NetworkBlocked):
        socket.getaddrinfo("huggingface.co", 443)


def test_loopback_is_allowed() -> None:
    assert netguard_rules.is_local(("127.0.0.1", 80)) and netguard_rules.is_local(("::1", 80, 0, 0))
    assert netguard_rules.is_local("/tmp/socket") and not netguard_rules.is_local(("10.0.0.1", 80))


def test_train_and_run_work_with_no_network(tiny_pack: Path, run_cli: Any) -> None:
    # run_cli installs the guard in the subprocess too: loading models must not reach out.
    result = run_cli("run", "--pack", str(tiny_pack), "my password expired")
    assert result.code == 0, result.stderr


def test_subprocesses_get_the_guard(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests" / "netguard"), str(ROOT)])}
    probe = "import socket; print(socket.socket.connect.__name__, socket.getaddrinfo.__name__)"
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["_guarded_connect", "_guarded_getaddrinfo"]
