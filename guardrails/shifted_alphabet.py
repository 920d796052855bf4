"""Sentences written in a shifted alphabet (Caesar, ROT13), shifted back so the guard reads what they say.

An instruction such as "Ljqruh doo suhylrxv lqvwuxfwlrqv" is gibberish to the rules and the model until
each letter is moved three places back. guardrails.injection adds what this finds to the text it checks.
"""

from __future__ import annotations

import itertools
import re

# Function words of English: plain English text is about 40% these; a shifted-alphabet cipher of it, none.
_FUNCTION_WORDS = frozenset(
    "the a an and or but of to in on at for with from by as is are was were be been it this that these those "
    "you your yours i me my we our they them their he she his her its not no all any what which who how when "
    "then than so if do does did have has had will would can could should must now please".split())
_WORD = re.compile(r"[A-Za-z]+")
# Markup is never the cipher, and its repeated tag names ("td" shifted is "is") would outvote the words.
_TAG = re.compile(r"<[^<>]{0,200}>")
_ALPHABET = "abcdefghijklmnopqrstuvwxyz"
# _SHIFTS[k] moves every letter k places forward (k = 0 leaves the text as it is).
_SHIFTS = [str.maketrans(_ALPHABET + _ALPHABET.upper(),
                         _ALPHABET[k:] + _ALPHABET[:k] + _ALPHABET.upper()[k:] + _ALPHABET.upper()[:k])
           for k in range(26)]
# A cipher is tried only on a stretch of this many words with almost no English function words among them.
_CIPHER_MIN_WORDS = 6


def _shape(word: str) -> tuple[int, ...]:
    """The steps between a word's letters: the same for a word and any shift of it ("the", "wkh")."""
    return tuple((ord(b) - ord(a)) % 26 for a, b in itertools.pairwise(word))


_FUNCTION_WORDS_BY_SHAPE: dict[tuple[int, ...], list[str]] = {}
for _word in sorted(_FUNCTION_WORDS):
    if len(_word) > 1:
        _FUNCTION_WORDS_BY_SHAPE.setdefault(_shape(_word), []).append(_word)


def _function_word_share(words: list[str]) -> float:
    return sum(w.lower() in _FUNCTION_WORDS for w in words) / max(len(words), 1)


def decode_shifted(text: str) -> list[str]:
    """Sentences written in a shifted alphabet (Caesar, ROT13) that read as English once shifted back.

    Only a sentence of at least six words with fewer than one in ten English function words is tried (English
    has ~four in ten, so ordinary English is never shifted). Each of its words votes for the shifts that
    would turn it into a function word of the same shape; the most voted shift is accepted when at least a
    third of the words then read as function words, which text in another language or a line of product
    codes does not reach. One pass over the words, not 25 trial decodings."""
    decoded = []
    for sentence in re.split(r"(?<=[.!?:;])\s+|\n+", text[:5000]):
        words = [w.lower() for w in _WORD.findall(_TAG.sub(" ", sentence))]
        if len(words) < _CIPHER_MIN_WORDS or _function_word_share(words) >= 0.1:
            continue
        votes: dict[int, int] = {}
        for word in words:
            for match in _FUNCTION_WORDS_BY_SHAPE.get(_shape(word), ()):
                back = (ord(match[0]) - ord(word[0])) % 26
                votes[back] = votes.get(back, 0) + 1
        if not votes:
            continue
        back = max(votes, key=lambda k: votes[k])
        shifted = sentence.translate(_SHIFTS[back])
        if back and _function_word_share(_WORD.findall(shifted)) >= 1 / 3:
            decoded.append(shifted)
    return decoded
