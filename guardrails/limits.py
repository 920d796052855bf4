"""Size and encoding limits on incoming ticket text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

REPLACEMENT_CHAR = "\ufffd"
# Unicode category Cc (C0 controls, DEL, C1 controls) except tab, newline and carriage return. One regex
# instead of a category lookup per character: a long email has thousands of characters.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# More than this share of undecodable or control characters means the text is not human-written.
_BAD_SHARE = 0.05


@dataclass(frozen=True)
class LimitResult:
    text: str
    """The text after truncation and removal of control characters."""
    flags: list[str] = field(default_factory=list)


def check_limits(text: str, max_chars: int) -> LimitResult:
    """Truncate oversize text, strip control characters, and flag empty, oversize or garbled input."""
    flags: list[str] = []
    if len(text) > max_chars:
        flags.append("oversize")
        text = text[:max_chars]
    controls = len(_CONTROL.findall(text))
    if text and (controls + text.count(REPLACEMENT_CHAR)) / len(text) > _BAD_SHARE:
        flags.append("bad_encoding")
    cleaned = _CONTROL.sub("", text).replace(REPLACEMENT_CHAR, "")
    if not cleaned.strip():
        flags.append("empty_text")
    return LimitResult(text=cleaned, flags=flags)
