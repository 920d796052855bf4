"""Language detection by function words: the encoder is English-only, so other languages must be found.

Function words ("the", "und", "que", ...) make up a large share of any sentence and barely overlap
between languages, so counting them identifies the language of a ticket of a few words in microseconds,
with no model and no download. Short texts (under MIN_WORDS words) are not judged: too unreliable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MIN_WORDS = 4
LANGUAGE_FLAG = "language_unsupported"
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)

FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset("the and to of a in is it you that for on my i with this be have are not can we me was do "
                    "please our your but from at an if would could will just since when there".split()),
    "de": frozenset("der und das ist nicht ich es ein eine zu mit den mein meine wir sie auf für bitte kann "
                    "haben wird sich noch dem auch aber oder kein seit wenn habe bei hallo danke".split()),
    "es": frozenset("el la de que y en los las un una por con para mi es se del al lo pero está tengo "
                    "puedo como ya muy hola gracias mis desde cuenta quiero también cómo qué nuestro nuestra "
                    "hay".split()),
    "fr": frozenset("le la les de des et un une est pas je nous vous dans sur mon ma mes avec que qui il "
                    "ce au du bonjour merci ne depuis compte".split()),
    "pt": frozenset("o os as de que e da em um uma não para com meu minha por se é está mas obrigado olá "
                    "no na eu você conta desde gostaria faço também obrigada isso muito ao pelo pela nosso "
                    "nossa".split()),
    "it": frozenset("il lo la gli le di che e un una non per con mio mia sono è ho ma del della nel ciao "
                    "grazie posso anche da".split()),
    "nl": frozenset("de het een en ik niet dat op te met voor mijn zijn er maar ook kan heb hallo "
                    "bedankt geen nog wel sinds".split()),
}


_OWN_LETTERS = {"es": frozenset("ñ"), "pt": frozenset("ãõ")}


@dataclass(frozen=True)
class LanguageGuess:
    language: str | None
    """ISO 639-1 code, or None when the text is too short or too mixed to tell."""
    share: float
    """Share of the text's words that are function words of that language."""


def detect_language(text: str) -> LanguageGuess:
    """The language whose function words cover the text best, if it clearly beats the others."""
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < MIN_WORDS:
        return LanguageGuess(None, 0.0)
    hits = {lang: sum(1 for w in words if w in vocab) for lang, vocab in FUNCTION_WORDS.items()}
    # Spanish and Portuguese share many function words ("de", "para", "como"): letters only one of them
    # writes ("ñ"; "ã", "õ") settle many of those ties.
    for lang, letters in _OWN_LETTERS.items():
        hits[lang] += sum(1 for w in words if letters.intersection(w))
    ranked = sorted(hits.items(), key=lambda kv: -kv[1])
    (best, best_hits), (_, second_hits) = ranked[0], ranked[1]
    # Words that are also common English words ("die", "come", "plus", "no", "me", "is") are left out of the
# other languages' lists. Romance languages share many short words: demand a clear margin, and enough evidence.
    if best_hits < 2 or best_hits < 1.5 * second_hits:
        return LanguageGuess(None, best_hits / len(words))
    return LanguageGuess(best, round(best_hits / len(words), 3))
