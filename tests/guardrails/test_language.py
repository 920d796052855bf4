"""Language detection: other languages are found, English (and short texts) are left alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.context import DirectActions, FixedControl, MemoryAudit, TriageContext
from agent.engine import TriageEngine
from agent.pack import load_pack
from agent.policy import decide_action
from agent.state import Classification, RetrievedArticle, Ticket
from guardrails.injection import InjectionResult
from guardrails.language import LANGUAGE_FLAG, MIN_WORDS, detect_language
from integrations.local import LocalHelpdesk
from tests.agent.fakes import FakeClassifier, FakeEncoder, FakeRetriever, prediction
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


# Tickets as customers write them; the pack serves English unless a test says otherwise.
GERMAN = "Hallo, ich habe mein Passwort vergessen und kann mich seit heute Morgen nicht mehr anmelden. Danke!"
FRENCH = "Bonjour, j'ai oublié mon mot de passe et je ne peux plus me connecter à mon compte depuis hier."
SPANISH = "Hola, olvidé mi contraseña y no puedo entrar en mi cuenta desde esta mañana. Gracias."
SHORT_ENGLISH = "password reset pls"


@pytest.fixture
def quiet_injection_detector(monkeypatch: pytest.MonkeyPatch) -> None:
    """The injection detector has its own tests (test_injection.py); here its flags would only add noise."""

    def nothing_found(*args: Any, **kwargs: Any) -> InjectionResult:
        return InjectionResult()

    monkeypatch.setattr("agent.nodes.guard_input.detect_injection", nothing_found)
    monkeypatch.setattr("guardrails.output.detect_injection", nothing_found)


def triage(make_pack: PackFactory, tmp_path: Path, text: str, policy: str = "", languages: str = "") -> dict[str, Any]:
    """One ticket through the real graph (fake models) on a pack with the given language policy."""
    yaml_text = TINY_YAML.replace("categories:", f"{languages}categories:") + policy
    pack = load_pack(make_pack(name="lang", yaml_text=yaml_text))
    desk = LocalHelpdesk(tmp_path / "desk.db")
    context = TriageContext(
        pack=pack, encoder=FakeEncoder(), classifier=FakeClassifier(prediction("password_reset", 0.95)),
        retriever=FakeRetriever([RetrievedArticle(id="KB-PW-1", title="Reset a forgotten password", score=0.9)]),
        actions=DirectActions(desk), audit=MemoryAudit(), control=FixedControl("auto"), hold_for_review=False,
    )
    ticket_id = desk.create_ticket(text)
    return TriageEngine(context).run(Ticket(id=ticket_id, text=text)).as_json()


@pytest.mark.usefixtures("quiet_injection_detector")
@pytest.mark.parametrize("text", [GERMAN, FRENCH, SPANISH])
def test_other_languages_escalate_by_default_and_get_no_reply(make_pack: PackFactory, tmp_path: Path,
                                                              text: str) -> None:
    result = triage(make_pack, tmp_path, text)
    assert LANGUAGE_FLAG in result["guard"]["input"]
    assert result["decision"] == "escalate" and result["reasons"] == [LANGUAGE_FLAG]
    assert result["queue"] == "triage" and not any(a["kind"] == "reply" for a in result["actions"])


@pytest.mark.usefixtures("quiet_injection_detector")
@pytest.mark.parametrize("text", [GERMAN, FRENCH, SPANISH])
def test_a_pack_may_reject_other_languages(make_pack: PackFactory, tmp_path: Path, text: str) -> None:
    result = triage(make_pack, tmp_path, text, policy="  other_languages: reject\n")
    assert result["decision"] == "reject" and result["reasons"] == [LANGUAGE_FLAG]


@pytest.mark.usefixtures("quiet_injection_detector")
def test_a_pack_may_continue_with_other_languages(make_pack: PackFactory, tmp_path: Path) -> None:
    result = triage(make_pack, tmp_path, GERMAN, policy="  other_languages: continue\n")
    assert LANGUAGE_FLAG in result["guard"]["input"]  # still recorded, but it stops nothing
    assert result["decision"] == "auto_reply" and LANGUAGE_FLAG not in result["reasons"]


@pytest.mark.usefixtures("quiet_injection_detector")
def test_a_language_the_pack_serves_is_not_flagged(make_pack: PackFactory, tmp_path: Path) -> None:
    result = triage(make_pack, tmp_path, GERMAN, languages="languages: [en, de]\n")
    assert LANGUAGE_FLAG not in result["guard"]["input"] and result["decision"] == "auto_reply"


@pytest.mark.usefixtures("quiet_injection_detector")
def test_short_tickets_are_not_judged(make_pack: PackFactory, tmp_path: Path) -> None:
    assert len(SHORT_ENGLISH.split()) < MIN_WORDS
    result = triage(make_pack, tmp_path, SHORT_ENGLISH)
    assert LANGUAGE_FLAG not in result["guard"]["input"] and result["decision"] == "auto_reply"
    # Below the minimum length even a foreign ticket passes unjudged (too few words to tell reliably).
    assert detect_language("Passwort vergessen, danke").language is None


@pytest.mark.parametrize("text, language", [
    # Many of these words are shared by Spanish and Portuguese ("de", "para", "como", "plano").
    ("Bom dia! Gostaria de passar para o plano anual, como faço isso?", "pt"),
    ("Boa tarde, a exportação para CSV não funciona como deveria", "pt"),
    ("Buenos días, quiero pasar al plan anual, ¿cómo lo hago para pagar menos?", "es"),
    ("La contraseña de mi compañero no funciona para entrar", "es"),
])
def test_spanish_and_portuguese_sharing_words_are_told_apart(text: str, language: str) -> None:
    assert detect_language(text).language == language
