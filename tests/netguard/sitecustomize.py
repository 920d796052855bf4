"""Loaded by every Python subprocess the tests start (via PYTHONPATH): no network but loopback."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from netguard_rules import install

install()
