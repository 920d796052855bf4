"""The `triage` command line (its train/run/eval shapes are a contract: see DESIGN.md).

Exit codes: 0 done, 1 an SLO missed (eval), 2 bad input (the message names file, row or field).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agent.pack import PackError, load_pack

EXIT_OK, EXIT_SLO_MISSED, EXIT_INPUT = 0, 1, 2
logger = logging.getLogger("triage")


class UsageError(Exception):
    """A user mistake to report in one line with exit code 2."""


def _say(message: str) -> None:
    print(message, file=sys.stderr)


# --- train ------------------------------------------------------------------------------------------------


def cmd_train(args: argparse.Namespace) -> int:
    from agent.models.bundle import train_pack

    pack = load_pack(args.pack)
    manifest = train_pack(pack, progress=lambda m: _say(f"train: {m}"))
    report = manifest["classifier"]
    _say(f"train: wrote {pack.model_dir} in {manifest['train_seconds']} s")
    print(json.dumps({"pack": pack.name, "model_dir": str(pack.model_dir), "examples": manifest["examples"],
                      "articles": manifest["articles"], "train_seconds": manifest["train_seconds"],
                      "classifier": report}, indent=2, default=float))
    return EXIT_OK


# --- run --------------------------------------------------------------------------------------------------


def _live_engine(pack_dir: Path, settings: Any) -> tuple[Any, Any, Any]:
    """Engine on the embedded default: local helpdesk, SQLite state and checkpoints."""
    from agent.context import TriageContext
    from agent.engine import TriageEngine
    from agent.models.bundle import load_models
    from integrations.local import LocalHelpdesk
    from service.checkpoints import sqlite_checkpointer
    from service.store import SqlAudit, SqlControl, SqlRuns, make_engine

    pack = load_pack(pack_dir)
    models = load_models(pack, threads=settings.encoder_threads)
    db = make_engine(settings.state_url)
    helpdesk = LocalHelpdesk(settings.helpdesk_path)
    context = TriageContext(
        pack=pack, encoder=models.encoder, classifier=models.classifier, retriever=models.kb,
        ticketing=helpdesk, audit=SqlAudit(db), control=SqlControl(db, settings.default_mode),
        versions=models.versions,
    )
    engine = TriageEngine(context, checkpointer=sqlite_checkpointer(settings.checkpoint_path))
    return engine, helpdesk, SqlRuns(db)


def _settings() -> Any:
    from pydantic import ValidationError

    from service.settings import Settings

    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "TRIAGE_" + "__".join(str(p).upper() for p in first["loc"])
        raise UsageError(f"environment variable {name}: {first['msg']}") from None


def cmd_run(args: argparse.Namespace) -> int:
    from agent.state import Ticket

    if args.file:
        try:
            text = Path(args.file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"{args.file}: cannot read the ticket ({exc})") from None
    elif args.text is not None:
        text = args.text
    else:
        raise UsageError("give the ticket text as an argument or with --file")
    settings = _settings()
    engine, helpdesk, runs = _live_engine(args.pack or settings.pack, settings)
    ticket_id = helpdesk.create_ticket(text, subject=args.subject or "", requester=args.requester)
    outcome = engine.run(Ticket(id=ticket_id, text=text, subject=args.subject or "", requester=args.requester,
                                channel="cli"))
    result = outcome.as_json()
    runs.save(result)
    print(json.dumps(result, indent=2))
    return EXIT_OK


# --- eval -------------------------------------------------------------------------------------------------


def cmd_eval(args: argparse.Namespace) -> int:
    from agent.models.bundle import load_models
    from eval.data import Columns, EvalInputError, read_rows
    from eval.runner import evaluate

    pack = load_pack(args.pack)
    explicit = frozenset(
        name for name, value in (("label", args.label_col), ("attack", args.attack_col), ("expect", args.expect_col))
        if value is not None
    )
    columns = Columns(text=args.text_col, label=args.label_col or "label", attack=args.attack_col or "is_attack",
                      expect=args.expect_col or "expected_action", explicit=explicit)
    try:
        rows = read_rows(Path(args.data), columns, set(pack.category_names))
    except EvalInputError as exc:
        raise UsageError(str(exc)) from None
    known_metrics = _report_keys()
    for key in pack.manifest.slo:
        if key.split("_", 1)[1] not in known_metrics:
            raise UsageError(f"{pack.root / 'pack.yaml'}: slo.{key}: '{key.split('_', 1)[1]}' is not a report.json key")
    models = load_models(pack)
    report = evaluate(pack, models, rows, Path(args.out), show_progress=not args.quiet)
    if report["unknown_labels"]:
        _say(f"eval: warning: labels that are neither a category nor out_of_scope: {report['unknown_labels']}")
    if report["skipped"]:
        _say(f"eval: skipped {len(report['skipped'])} rows with empty text: {report['skipped'][:20]}")
    summary = {k: report[k] for k in ("n", "accuracy", "macro_f1", "automation_rate", "auto_precision",
                                      "escalation_rate", "oos_recall", "attack_tpr", "expected_action_accuracy",
                                      "grounding", "latency_ms")}
    print(json.dumps(summary, indent=2))
    _say(f"eval: wrote {Path(args.out) / 'report.json'} and {Path(args.out) / 'report.html'}")
    missed = [s for s in report["slo"] if s["met"] is False]
    for s in report["slo"]:
        if s["met"] is None:
            _say(f"eval: SLO {s['slo']} not measured on this data ({s['metric']} is null)")
    if missed:
        for s in missed:
            _say(f"eval: SLO MISSED {s['slo']}: target {s['target']}, measured {s['value']}")
        return EXIT_SLO_MISSED
    return EXIT_OK


def _report_keys() -> set[str]:
    return {"n", "accuracy", "macro_f1", "automated_n", "automation_rate", "escalation_rate", "auto_precision",
            "oos_n", "oos_recall", "attack_n", "attack_tpr", "attack_fpr", "attack_contained",
            "expected_action_accuracy", "grounding", "p50_latency_ms", "p95_latency_ms", "p99_latency_ms"}


# --- control ----------------------------------------------------------------------------------------------


def cmd_control(args: argparse.Namespace) -> int:
    from service.store import SqlControl, make_engine

    settings = _settings()
    control = SqlControl(make_engine(settings.state_url), settings.default_mode)
    if args.mode:
        control.set_mode(args.mode, changed_by=args.by, reason=args.reason or "")
    print(json.dumps({"scope": "global", "mode": control.mode()}))
    return EXIT_OK


# --- review -----------------------------------------------------------------------------------------------


def cmd_review(args: argparse.Namespace) -> int:
    from agent.state import ReviewAnswer

    settings = _settings()
    engine, _helpdesk, runs = _live_engine(args.pack or settings.pack, settings)
    if args.review_cmd == "list":
        pending = [r for r in runs.awaiting_review() if engine.pending(r["run_id"])]
        print(json.dumps([{k: r[k] for k in ("run_id", "ticket_id", "category", "confidence", "decision",
                                              "reasons", "draft")} for r in pending], indent=2))
        return EXIT_OK
    if not engine.pending(args.run_id):
        raise UsageError(f"run {args.run_id} is not waiting for a review (unknown, or already answered)")
    answer = ReviewAnswer(verdict=args.review_cmd, reviewer=args.reviewer, comment=args.comment or "")
    result = engine.resume(args.run_id, answer).as_json()
    runs.save(result)
    print(json.dumps(result, indent=2))
    return EXIT_OK


# --- audit ------------------------------------------------------------------------------------------------


def cmd_audit(args: argparse.Namespace) -> int:
    from service.store import SqlAudit, make_engine

    settings = _settings()
    print(json.dumps(SqlAudit(make_engine(settings.state_url)).trail(args.ticket), indent=2))
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="triage", description="First-line support-ticket triage agent")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="fit the pack's local models into DIR/.model/")
    p.add_argument("--pack", required=True, type=Path)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("run", help="triage one ticket and print the decision as JSON")
    p.add_argument("text", nargs="?", help="the ticket text")
    p.add_argument("--file", help="read the ticket text from a file")
    p.add_argument("--pack", type=Path, help="pack directory (default: $TRIAGE_PACK or packs/it_helpdesk)")
    p.add_argument("--subject", help="ticket subject")
    p.add_argument("--requester", help="requester's email")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("eval", help="run the full graph on a CSV/JSONL file and write OUT/report.json")
    p.add_argument("--pack", required=True, type=Path)
    p.add_argument("--data", required=True, help="a .csv or .jsonl file")
    p.add_argument("--out", required=True, help="output directory (report.json, report.html)")
    p.add_argument("--text-col", default="text")
    p.add_argument("--label-col")
    p.add_argument("--attack-col")
    p.add_argument("--expect-col")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("control", help="read or set the global mode (off, shadow, propose, auto)")
    p.add_argument("mode", nargs="?", choices=["off", "shadow", "propose", "auto"])
    p.add_argument("--by", default="cli", help="who changes it (recorded)")
    p.add_argument("--reason", help="why (recorded)")
    p.set_defaults(func=cmd_control)

    p = sub.add_parser("review", help="list escalations waiting for a reviewer, approve or reject them")
    p.add_argument("--pack", type=Path)
    rsub = p.add_subparsers(dest="review_cmd", required=True)
    rsub.add_parser("list")
    for verdict in ("approve", "reject"):
        r = rsub.add_parser(verdict)
        r.add_argument("run_id")
        r.add_argument("--reviewer", required=True, help="who answers (recorded in the audit)")
        r.add_argument("--comment")
    p.set_defaults(func=cmd_review)

    p = sub.add_parser("audit", help="audit trails")
    asub = p.add_subparsers(dest="audit_cmd", required=True)
    a = asub.add_parser("show", help="a ticket's audit trail")
    a.add_argument("ticket")
    p.set_defaults(func=cmd_audit)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    from agent.models.bundle import NotTrainedError
    from agent.models.encoder import EncoderError

    try:
        code: int = args.func(args)
        return code
    except (PackError, UsageError, NotTrainedError, EncoderError) as exc:
        _say(f"triage: error: {exc}")
        return EXIT_INPUT
    except KeyboardInterrupt:
        _say("triage: interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
