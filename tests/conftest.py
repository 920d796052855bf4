"""Shared fixtures: the no-network guard, small pack factories, trained packs and a CLI runner."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import netguard_rules

# A state type missing from the checkpoint serializer's allow-list must fail loudly, not turn into a dict.
os.environ.setdefault("LANGGRAPH_STRICT_MSGPACK", "true")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATASETS = ROOT.parent / "shared" / "datasets"
DEFAULT_PACK = ROOT / "packs" / "saas_support"


@pytest.fixture(autouse=True)
def no_network() -> Iterator[None]:
    """Fail any test that tries to reach a real model hub or any other host."""
    netguard_rules.install()
    yield
    netguard_rules.uninstall()


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep the live Request Tracker tests on one xdist worker: RT posts every ticket's webhooks to one
    receiver port, and the poller some of them run reads every ticket changed since its cursor, so another
    test's tickets must not change meanwhile."""
    for item in items:
        if "rt_env" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("request_tracker"))


def pytest_configure(config: pytest.Config) -> None:
    """Refuse a pytest whose node ids make xdist ignore the group silently (pytest-xdist issue 1386)."""
    if config.getoption("dist", "no") == "loadgroup" and pytest.version_tuple[:2] >= (9, 2):
        raise pytest.UsageError(f"pytest {pytest.__version__} breaks xdist's --dist loadgroup, which keeps the "
                                "live RT tests on one worker: `make setup` installs the version pyproject.toml "
                                "pins, or run with -n 0")


def require_live(service: str, reason: str) -> None:
    """Skip a test whose live service is absent, unless CI demands live services (then fail)."""
    if os.environ.get("TRIAGE_REQUIRE_LIVE") == "1":
        pytest.fail(f"{service} is required (TRIAGE_REQUIRE_LIVE=1) but absent: {reason}")
    pytest.skip(f"{service} absent: {reason}")


# --- packs -------------------------------------------------------------------------------------------------

TINY_YAML = """\
name: tiny
owner: {name: "Test Owner", email: "owner@example.com"}
categories:
  - name: password_reset
    description: "Forgotten or expired passwords"
    queue: identity
    autonomy: auto
  - name: billing
    description: "Invoices and charges"
    queue: finance
    autonomy: propose
  - name: security
    description: "Phishing and compromised accounts"
    queue: secops
    priority: high
    autonomy: never
policy:
  default_threshold: 0.4
  url_allowlist: ["https://help.example.com"]
  priorities:
    rules:
      - {if_any: ["urgent", "asap"], set: urgent}
"""

TINY_EXAMPLES = {
    "password_reset": ["I forgot my password", "my password expired and I cannot log in",
                       "please reset my password", "locked out of my account after too many password attempts",
                       "how do I change my password", "password reset link does not work"],
    "billing": ["I was charged twice this month", "where can I download my invoice",
                "the invoice amount is wrong", "please update the billing address on my invoice",
                "why did my subscription price go up", "I need a copy of last month's receipt"],
    "security": ["I clicked a link in a phishing email", "someone logged into my account from another country",
                 "I think my laptop has malware", "suspicious email asking for my credentials",
                 "my account was hacked", "I got a strange login alert I did not trigger"],
    "out_of_scope": ["what is the weather tomorrow", "recommend a good pizza place nearby",
                     "who won the football game last night"],
}

TINY_KB = {
    "kb-pw-1.md": ("KB-PW-1", "Reset a forgotten password", ["password_reset"],
                   "Open https://help.example.com/reset, enter your email and follow the link we send. "
                   "The link is valid for 30 minutes."),
    "kb-bill-1.md": ("KB-BILL-1", "Download invoices and fix billing details", ["billing"],
                     "Invoices are under Settings > Billing at https://help.example.com/billing. "
                     "Duplicate charges are refunded within 5 business days."),
    "kb-sec-1.md": ("KB-SEC-1", "What to do after a phishing email", ["security"],
                    "Do not reply. Change your password and report the email to the security team."),
}


@dataclass
class PackFactory:
    base: Path

    def __call__(self, name: str = "tiny", yaml_text: str = TINY_YAML,
                 examples: dict[str, list[str]] | list[tuple[str, str]] | None = None,
                 kb: dict[str, tuple[str, str, list[str], str]] | None = None) -> Path:
        """Write a pack directory; pass raw pieces to build broken packs."""
        root = self.base / name
        if root.exists():
            shutil.rmtree(root)
        (root / "kb").mkdir(parents=True)
        (root / "pack.yaml").write_text(yaml_text)
        rows = examples if examples is not None else TINY_EXAMPLES
        pairs = [(t, label) for label, texts in rows.items() for t in texts] if isinstance(rows, dict) else rows
        with (root / "examples.csv").open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["text", "label"])
            writer.writerows(pairs)
        for filename, (aid, title, cats, answer) in (kb if kb is not None else TINY_KB).items():
            (root / "kb" / filename).write_text(textwrap.dedent(f"""\
                ---
                id: {aid}
                title: {title}
                categories: [{", ".join(cats)}]
                ---
                Context for agents.

                ## Answer
                {answer}
                """))
        return root


@pytest.fixture
def make_pack(tmp_path: Path) -> PackFactory:
    return PackFactory(tmp_path)


@pytest.fixture(scope="session")
def tiny_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A trained three-category pack (owner set; auto, propose and never autonomy)."""
    from agent.models.bundle import train_pack
    from agent.pack import load_pack

    root = PackFactory(tmp_path_factory.mktemp("packs"))()
    train_pack(load_pack(root))
    return root


@pytest.fixture(scope="session")
def trained_default_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A trained copy of the bundled pack (the repository's own copy is never written by tests)."""
    from agent.models.bundle import train_pack
    from agent.pack import load_pack

    root = tmp_path_factory.mktemp("default") / DEFAULT_PACK.name
    shutil.copytree(DEFAULT_PACK, root, ignore=shutil.ignore_patterns(".model"))
    train_pack(load_pack(root))
    return root


# --- tickets and the CLI ---------------------------------------------------------------------------------


@pytest.fixture
def make_ticket() -> Callable[..., Any]:
    from agent.state import Ticket

    counter = iter(range(1, 1_000_000))

    def factory(text: str = "I forgot my password", **overrides: Any) -> Ticket:
        return Ticket(**{"id": f"T-{next(counter)}", "text": text, **overrides})

    return factory


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


@pytest.fixture
def run_cli(tmp_path: Path) -> Callable[..., CliResult]:
    """Run `triage ...` in a subprocess with the network guard and a private TRIAGE_HOME."""

    def runner(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> CliResult:
        environ = {**os.environ, "TRIAGE_HOME": str(tmp_path / "home"),
                   "PYTHONPATH": os.pathsep.join([str(ROOT / "tests" / "netguard"), str(ROOT)]),
                   **(env or {})}
        proc = subprocess.run([sys.executable, "-m", "service.cli", *args], capture_output=True, text=True,
                              env=environ, cwd=cwd or ROOT, timeout=300)
        return CliResult(proc.returncode, proc.stdout, proc.stderr)

    return runner
