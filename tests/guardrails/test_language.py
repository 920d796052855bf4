"""Language detection: other languages are found, English (and short texts) are left alone."""

from __future__ import annotations

import pytest

from agent.pack import load_pack
from agent.policy import decide_action
from agent.state import Classification
from guardrails.language import detect_language
from tests.conftest import TINY_YAML, PackFactory


@pytest.mark.parametrize("text, language", [
    ("Hola, no puedo entrar en mi cuenta desde esta mañana y necesito ayuda", "es"),
    ("Guten Tag, ich habe mein Passwort vergessen und kann mich nicht anmelden", "de"),
    ("Bonjour, je ne reçois plus les notifications depuis la mise à jour", "fr"),
    ("Olá, não consigo exportar os dados da minha conta", "pt"),
    ("Ciao, non riesco ad accedere al mio account da ieri", "it"),
    ("Hallo, ik kan niet inloggen op mijn account sinds gisteren", "nl"),
    ("I can't log in to my account since the update this morning", "en"),
])
def test_languages_are_told_apart(text: str, language: str) -> None:
    assert detect_language(text).language == language


def test_english_with_look_alike_words_is_not_flagged() -> None:
    # "come" is Italian, "plus" French, "no" Spanish: none of them may make English look foreign
    for text in ("Print jobs come out double sided even though I selected single",
                 "no plus sign in the export, come on", "me and my team can't see the board"):
        assert detect_language(text).language in ("en", None)


def test_short_or_mixed_texts_are_not_judged() -> None:
    assert detect_language("vpn down").language is None
    assert detect_language("SSO SAML Okta 403").language is None


def test_other_languages_follow_the_pack_policy(make_pack: PackFactory) -> None:
    cls = Classification(category="password_reset", confidence=0.99, alternatives=[("password_reset", 0.99)],
                         out_of_scope=False, oos_score=0.0, priority="normal", queue="identity")
    escalating = load_pack(make_pack())
    d = decide_action(escalating, "auto", cls, None, ["language_unsupported"], [], [])
    assert d.decision == "escalate" and d.reasons == ["language_unsupported"]
    served = load_pack(make_pack(name="cont", yaml_text=TINY_YAML + "  other_languages: continue\n"))
    assert decide_action(served, "auto", cls, None, ["language_unsupported"], [], []).decision == "auto_route"
