"""Operations: liveness, readiness, Prometheus metrics and the agent card."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from service.api.auth import IngestKey
from service.api.schemas import ErrorOut, HealthOut
from service.runtime import Embedded

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=HealthOut)
def healthz() -> HealthOut:
    """The process answers (liveness)."""
    return HealthOut(status="ok")


@router.get("/readyz", response_model=HealthOut, responses={503: {"model": HealthOut}})
def readyz(request: Request, response: Response) -> HealthOut:
    """Ready to take tickets: the database answers and the models are loaded. The agent being switched
    off is reported, not a failure: tickets are still taken and left for humans."""
    checks: dict[str, str] = {}
    runtime: Embedded | None = getattr(request.app.state, "runtime", None)
    if runtime is None:
        response.status_code = 503
        return HealthOut(status="starting", checks={"runtime": "not loaded yet"})
    try:
        with runtime.db.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure to reach it means not ready
        checks["database"] = f"unreachable: {type(exc).__name__}"
    checks["models"] = "ok" if runtime.engine.context.classifier is not None else "missing"
    checks["mode"] = runtime.control.mode()
    workers = request.app.state.workers
    checks["workers"] = f"{workers.alive()} of {workers.threads} alive"
    ready = checks["database"] == "ok" and checks["models"] == "ok" and workers.alive() == workers.threads
    if not ready:
        response.status_code = 503
    return HealthOut(status="ready" if ready else "not_ready", checks=checks)


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
def metrics(request: Request) -> Response:
    """Prometheus exposition: tickets by decision, latency, escalation and override rates, errors, queue
    depth, outbox backlog and dead letters, pending reviews, breakers, mode."""
    return Response(generate_latest(request.app.state.metrics), media_type=CONTENT_TYPE_LATEST)


@router.get("/v1/agent", responses={401: {"model": ErrorOut}})
def agent_card(request: Request, _: IngestKey) -> dict[str, Any]:
    """Who answers for this agent, what it may do alone, and the numbers it is held to."""
    runtime: Embedded = request.app.state.runtime
    pack = runtime.pack
    manifest = pack.manifest
    owner = manifest.owner.model_dump() if manifest.owner else None
    return {
        "name": f"triage-agent/{pack.name}",
        "version": runtime.engine.context.versions.get("agent", "unknown"),
        "owner": owner,
        "accountability": "acts alone within policy" if owner else
                          "no owner named in the pack: never acts above propose",
        "pack": {"name": pack.name, "version": manifest.version, "description": manifest.description,
                 "hash": pack.content_hash()},
        "models": dict(runtime.engine.context.versions),
        "helpdesk": runtime.helpdesk.name,
        "modes": runtime.control.modes(),
        "autonomy": {c.name: {"autonomy": c.autonomy, "queue": c.queue,
                              "threshold": pack.threshold(c.name)} for c in manifest.categories},
        "policy": {"human_queue": manifest.policy.human_queue, "out_of_scope": manifest.policy.out_of_scope,
                   "other_languages": manifest.policy.other_languages, "languages": manifest.languages,
                   "guard": manifest.policy.guard, "url_allowlist": manifest.policy.url_allowlist,
                   "commitments": manifest.policy.commitments.model_dump()},
        "slo": manifest.slo,
        "llm": runtime.engine.context.llm.status() if runtime.engine.context.llm else None,
    }
