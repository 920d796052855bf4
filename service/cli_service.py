"""Service commands: serve, workers, API keys."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    """Add this module's sub-commands to the `triage` parser."""
    _ = argparse  # sub-commands are added here
