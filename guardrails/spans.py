"""Cutting a ticket into the spans the injection model scores one by one (sentences, lines, quoted lines).

One injected sentence inside a long, friendly email is diluted in the whole-text score; scored on its
own it stands out. Spans are sentences and lines (quote markers dropped), very short ones merged with the
next, plus every pair of neighbours, so an instruction split over two sentences is still seen together.
HTML tags and comment markers are boundaries too (the tag stays in the text, at the edge of a span): an
instruction in an HTML comment or a table cell of a pasted page has no sentence end around it.
"""

from __future__ import annotations

import itertools
import re

# A sentence ends at . ! ? (plus closing quotes or brackets) followed by a space, or at a line break.
_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n")
_LEADING_NOISE = re.compile(r"[\s>|*\-]+")
# An HTML tag or comment marker: a span may start before it and ends after it.
_TAG = re.compile(r"<!--|-->|</?[a-z][a-z0-9]*(?:\s[^<>\n]{0,200})?/?>", re.IGNORECASE)
MIN_SPAN_CHARS = 40
MAX_SPANS = 80


def _segments(text: str) -> list[tuple[int, int]]:
    # Cuts as (end of the previous segment, start of the next): a sentence boundary drops its whitespace,
    # a tag is kept whole, cut off from the text before and after it.
    cuts = [(m.start(), m.end()) for m in _BOUNDARY.finditer(text)]
    for tag in _TAG.finditer(text):
        cuts += [(tag.start(), tag.start()), (tag.end(), tag.end())]
    spans: list[tuple[int, int]] = []
    start = 0
    for cut_start, cut_end in sorted(cuts):
        if cut_start >= start:
            spans.append((start, cut_start))
        start = max(start, cut_end)
    spans.append((start, len(text)))
    trimmed = []
    for begin, end in spans:
        noise = _LEADING_NOISE.match(text, begin, end)
        if noise:
            begin = noise.end()
        if end > begin:
            trimmed.append((begin, end))
    return trimmed


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences / lines of `text`, short ones merged into the next."""
    merged: list[tuple[int, int]] = []
    pending: tuple[int, int] | None = None
    for begin, end in _segments(text):
        if pending is not None:
            begin = pending[0]
        if end - begin < MIN_SPAN_CHARS:
            pending = (begin, end)
            continue
        pending = None
        merged.append((begin, end))
    if pending is not None:
        if merged:
            merged[-1] = (merged[-1][0], pending[1])
        else:
            merged.append(pending)
    return merged[:MAX_SPANS]


def split_spans(text: str) -> list[tuple[int, int]]:
    """The sentences / lines of `text` and each pair of neighbours.

    Returns nothing for a text of one sentence: the whole-text check already covers it.
    """
    sentences = sentence_spans(text)
    if len(sentences) < 2:
        return []
    pairs = [(a[0], b[1]) for a, b in itertools.pairwise(sentences)]
    return sentences + pairs
