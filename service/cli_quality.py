"""Quality commands: calibrate, pack scaffolding, model versions, feedback export, shadow replay, drift.

Each prints its result as JSON on stdout and progress on stderr; a user mistake raises
`service.cli.UsageError` (exit 2, naming the file, row or field).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.pack import Pack, PackError, load_manifest, load_pack


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _print(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str))


def _usage(message: str) -> Exception:
    from service.cli import UsageError

    return UsageError(message)


# --- calibrate --------------------------------------------------------------------------------------------


def _candidates(pack: Pack, demoted: set[str]) -> Pack:
    """The pack with categories an earlier calibrate demoted back at `auto`, so they can earn it again."""
    if not demoted:
        return pack
    categories = [c.model_copy(update={"autonomy": "auto"}) if c.name in demoted else c
                  for c in pack.manifest.categories]
    manifest = pack.manifest.model_copy(update={"categories": categories})
    return dataclasses.replace(pack, manifest=manifest, _by_name={c.name: c for c in categories})


def _write_pack_yaml(path: Path, text: str, thresholds: dict[str, float], autonomy: dict[str, str]) -> None:
    """Write atomically, after proving the edited text parses to exactly the intended policy."""
    candidate = path.with_name(f".{path.name}.calibrate")
    candidate.write_text(text, encoding="utf-8")
    try:
        manifest = load_manifest(candidate)
    except PackError as exc:
        candidate.unlink()
        raise _usage(f"{path}: the edited file would be invalid ({exc.problem}); nothing was written") from None
    got = {c.name: c.autonomy for c in manifest.categories if c.name in autonomy}
    if dict(manifest.policy.thresholds) != thresholds or got != autonomy:
        candidate.unlink()
        raise _usage(f"{path}: could not place the thresholds unambiguously; nothing was written")
    os.replace(candidate, path)


def cmd_calibrate(args: argparse.Namespace) -> int:
    from agent.models.encoder import load_encoder
    from eval.calibrate import NEVER, CalibrationError, calibrate, out_of_fold_predictions
    from eval.pack_yaml import PackEditError, demoted_categories, set_autonomy, set_thresholds

    pack = load_pack(args.pack)
    if pack.manifest.owner is None:
        raise _usage(f"{pack.root / 'pack.yaml'}: owner: not set, so the agent never acts alone and there is "
                     "nothing to calibrate (name the accountable person first)")
    if args.folds < 2:
        raise _usage(f"--folds {args.folds}: needs at least 2")
    if not 0.5 <= args.target_precision < 1.0:
        raise _usage(f"--target-precision {args.target_precision}: must be at least 0.5 and below 1")
    if not 0.0 <= args.min_threshold < 1.0:
        raise _usage(f"--min-threshold {args.min_threshold}: must be at least 0 and below 1")
    path = pack.root / "pack.yaml"
    text = path.read_text(encoding="utf-8")
    demoted = demoted_categories(text)
    candidates = _candidates(pack, demoted)
    try:
        preds = out_of_fold_predictions(candidates, load_encoder(), folds=args.folds, seed=args.seed,
                                        say=lambda m: _say(f"calibrate: {m}"))
        result = calibrate(candidates, preds, args.target_precision, floor=args.min_threshold)
    except CalibrationError as exc:
        raise _usage(str(exc)) from None
    summary = result.as_json()
    met = {c: t for c, t in result.thresholds.items() if t < NEVER}
    # Keep hand-set thresholds of categories calibrate did not look at (propose or never autonomy).
    thresholds = {c: t for c, t in pack.policy.thresholds.items() if c not in result.thresholds} | met
    autonomy = {c: "propose" for c, t in result.thresholds.items() if t >= NEVER and c not in demoted}
    autonomy |= {c: "auto" for c in demoted if c in met}
    summary["written"] = not args.dry_run
    summary["autonomy_changes"] = autonomy
    overall, fair = result.overall, result.cross_checked
    if not args.dry_run:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d")
        note = (f"triage calibrate {stamp}: target auto-precision {args.target_precision} (95% lower bound), "
                f"out of fold {overall.auto_precision} at automation {overall.automation_rate}; "
                f"cross-checked {fair.auto_precision} at {fair.automation_rate}")
        try:
            edited = set_autonomy(path, set_thresholds(path, text, thresholds, note), autonomy)
        except PackEditError as exc:
            raise _usage(str(exc)) from None
        _write_pack_yaml(path, edited, {c: round(t, 4) for c, t in thresholds.items()}, autonomy)
    _print(summary)
    if not result.thresholds:
        _say("calibrate: no category has autonomy auto, so there is no threshold to choose")
    elif not met:
        _say(f"calibrate: no category meets {args.target_precision}: a 95% lower bound that high needs at least "
             f"{summary['fewest_automated_for_bound']} automated held-out tickets without a mistake; add examples "
             "or lower --target-precision")
    _say(f"calibrate: {len(met)} categories meet the target, {len(autonomy)} autonomy changes; automation rate "
         f"{overall.automation_rate} at auto-precision {overall.auto_precision} (lower bound "
         f"{(summary['out_of_fold']['auto_precision_ci95'] or [None])[0]}) on out-of-fold training tickets; "
         f"cross-checked {fair.automation_rate} at {fair.auto_precision}"
         + ("" if args.dry_run else f"; wrote {path}"))
    return 0


# --- pack new ---------------------------------------------------------------------------------------------


def cmd_pack_new(args: argparse.Namespace) -> int:
    from agent.pack_scaffold import ScaffoldError, scaffold_pack

    categories = [c.strip() for c in args.categories.split(",")] if args.categories else None
    try:
        root = scaffold_pack(args.name, args.dir, categories)
    except ScaffoldError as exc:
        raise _usage(str(exc)) from None
    _print({"pack": args.name, "path": str(root), "files": sorted(str(p.relative_to(root))
                                                                  for p in root.rglob("*") if p.is_file())})
    _say(f"pack: created {root}; next steps are in {root / 'README.md'} (start with `triage train --pack {root}`)")
    return 0


# --- model versions and rollback ------------------------------------------------------------------------


def cmd_model(args: argparse.Namespace) -> int:
    from agent.models.bundle import model_summary, model_versions, rollback

    pack = load_pack(args.pack)
    if args.model_cmd == "rollback":
        restored = rollback(pack)
        _say(f"model: version {restored.get('model_version')} (trained {restored.get('trained_at')}) is current "
             "again; run the same command to roll forward")
        _print({"current": model_summary(restored), **{k: v for k, v in model_versions(pack).items()
                                                       if k == "previous"}})
        return 0
    _print(model_versions(pack))
    return 0


# --- feedback, shadow replay, drift ----------------------------------------------------------------------


def _state_db() -> Any:
    from service.cli import _settings
    from service.store import make_engine

    return make_engine(_settings().state_url)


def _since(days: float | None) -> datetime | None:
    from datetime import timedelta

    return datetime.now(UTC) - timedelta(days=days) if days is not None else None


def cmd_feedback_export(args: argparse.Namespace) -> int:
    from eval.feedback import append_to_examples, labelled_examples, reviewed_outcomes, write_feedback

    pack = load_pack(args.pack)
    outcomes = reviewed_outcomes(_state_db(), _since(args.since_days))
    rows, left_out = labelled_examples(outcomes, set(pack.category_names))
    write_feedback(Path(args.out), rows)
    added = append_to_examples(pack.root / "examples.csv", rows) if args.append else None
    _print({"reviewed": len(outcomes), "exported": len(rows), "left_out": left_out,
            "corrections": sum(1 for r in rows if r["source"] == "correction"), "out": args.out,
            "appended_to_pack": added})
    if added is not None:
        _say(f"feedback: added {added} new examples to {pack.root / 'examples.csv'}; retrain with "
             f"`triage train --pack {pack.root}` (the current model is kept for `triage model rollback`)")
    return 0


def _read_replay(args: argparse.Namespace, pack: Pack) -> list[Any]:
    from eval.data import Columns, EvalInputError, read_rows
    from eval.feedback import replay_rows, reviewed_outcomes

    if bool(args.data) == bool(args.from_reviews):
        raise _usage("give the tickets to replay: --data FILE (.csv/.jsonl with text and label) or --from-reviews")
    if args.from_reviews:
        return list(replay_rows(reviewed_outcomes(_state_db(), _since(args.since_days))))
    explicit = frozenset({"label"}) if args.label_col else frozenset()
    columns = Columns(text=args.text_col, label=args.label_col or "label", explicit=explicit)
    try:
        return list(read_rows(Path(args.data), columns, set(pack.category_names)))
    except EvalInputError as exc:
        raise _usage(str(exc)) from None


def cmd_shadow(args: argparse.Namespace) -> int:
    from agent.models.bundle import load_models
    from eval.feedback import write_feedback
    from eval.runner import eval_engine, run_rows
    from eval.shadow import disagreement_examples, shadow_report

    pack = load_pack(args.pack)
    rows = [r for r in _read_replay(args, pack) if r.text]
    if not rows:
        raise _usage("nothing to replay: no ticket with text" + (" has a reviewer's answer and its text still in "
                                                                 "the PII store" if args.from_reviews else ""))
    results = run_rows(eval_engine(pack, load_models(pack)), rows, show_progress=not args.quiet)
    report = shadow_report(results, pack)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "shadow.json").write_text(json.dumps(report, indent=1) + "\n")
    write_feedback(out / "feedback.csv", disagreement_examples(results, pack))
    _print({k: v for k, v in report.items() if k != "missed_escalations"})
    _say(f"shadow: {report['missed_escalations_n']} missed escalations (tickets a person had to take that the agent "
         f"would have handled alone); details in {out / 'shadow.json'}, disagreements as examples in "
         f"{out / 'feedback.csv'}")
    return 0


def cmd_drift(args: argparse.Namespace) -> int:
    from eval.data import EvalInputError
    from eval.drift import drift_report, live_runs, read_predictions

    try:
        reference = read_predictions(Path(args.eval_out))
    except EvalInputError as exc:
        raise _usage(str(exc)) from None
    live = live_runs(_state_db(), _since(args.since_days))
    report = drift_report(live, reference)
    _print(report)
    _say(f"drift: {report['verdict']} ({report['live_n']} live runs against {report['eval_n']} eval rows)")
    return 1 if args.fail_on_drift and report["verdict"] == "drifted" else 0


def register(sub: Any) -> None:
    """Add this module's sub-commands to the `triage` parser."""
    p = sub.add_parser("calibrate", help="per-category thresholds meeting a target auto-precision, into pack.yaml")
    p.add_argument("--pack", required=True, type=Path)
    p.add_argument("--target-precision", type=float, default=0.98,
                   help="auto-precision whose 95%% Wilson lower bound the thresholds must reach (default 0.98)")
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--min-threshold", type=float, default=0.5,
                   help="never choose a threshold below this confidence (default 0.5)")
    p.add_argument("--dry-run", action="store_true", help="print the thresholds, leave pack.yaml as it is")
    p.set_defaults(func=cmd_calibrate)

    p = sub.add_parser("pack", help="domain packs: scaffold a new one")
    psub = p.add_subparsers(dest="pack_cmd", required=True)
    n = psub.add_parser("new", help="create a valid, trainable pack directory with a README of next steps")
    n.add_argument("name", help="pack name (lower-case letters, digits, '_')")
    n.add_argument("--dir", type=Path, default=Path("packs"), help="parent directory (default packs/)")
    n.add_argument("--categories", help="comma-separated category names (default: two placeholders)")
    n.set_defaults(func=cmd_pack_new)

    p = sub.add_parser("model", help="the pack's trained model versions: show them, roll back to the previous one")
    p.add_argument("--pack", required=True, type=Path)
    msub = p.add_subparsers(dest="model_cmd", required=True)
    msub.add_parser("versions", help="the current and the previous model (version, hashes, metrics)")
    msub.add_parser("rollback", help="make the previous model current (again: roll forward)")
    p.set_defaults(func=cmd_model)

    p = sub.add_parser("feedback", help="reviewers' answers as labelled examples")
    fsub = p.add_subparsers(dest="feedback_cmd", required=True)
    f = fsub.add_parser("export", help="write reviewed tickets (redacted) with the reviewer's category as CSV")
    f.add_argument("--pack", required=True, type=Path)
    f.add_argument("--out", required=True, help="CSV file to write (text,label,... like examples.csv)")
    f.add_argument("--since-days", type=float, help="only answers from the last N days")
    f.add_argument("--append", action="store_true", help="also add new texts to the pack's examples.csv")
    f.set_defaults(func=cmd_feedback_export)

    p = sub.add_parser("shadow", help="replay tickets with their human outcomes: agreement, missed escalations")
    p.add_argument("--pack", required=True, type=Path)
    p.add_argument("--data", help="CSV/JSONL: text, label (the human's category), optional expected_action")
    p.add_argument("--from-reviews", action="store_true", help="replay reviewed tickets from the state database")
    p.add_argument("--since-days", type=float, help="with --from-reviews: answers from the last N days")
    p.add_argument("--out", required=True, help="output directory (shadow.json, feedback.csv)")
    p.add_argument("--text-col", default="text")
    p.add_argument("--label-col")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_shadow)

    p = sub.add_parser("drift", help="live confidence and category mix against an eval run")
    p.add_argument("--eval-out", required=True, help="an eval output directory (its predictions.jsonl)")
    p.add_argument("--since-days", type=float, default=7.0, help="live runs of the last N days (default 7)")
    p.add_argument("--fail-on-drift", action="store_true", help="exit 1 when the verdict is 'drifted'")
    p.set_defaults(func=cmd_drift)
