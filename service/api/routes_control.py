"""Control: the live modes per scope (the off-switch) and the circuit breakers. Changing needs admin."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from service.api.auth import AdminKey, IngestKey
from service.api.errors import ApiError
from service.api.schemas import ControlIn, ErrorOut
from service.control import ControlError, check_scope
from service.runtime import Embedded

router = APIRouter(prefix="/v1/control", tags=["control"],
                   responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 429: {"model": ErrorOut}})


def _runtime(request: Request) -> Embedded:
    runtime: Embedded = request.app.state.runtime
    return runtime


@router.get("")
def read_modes(request: Request, _: IngestKey) -> dict[str, Any]:
    """The global mode, every scope set, the tripped breakers and the history of changes."""
    runtime = _runtime(request)
    return {**runtime.control.modes(), "history": runtime.control.history()[-50:]}


@router.put("", responses={404: {"model": ErrorOut}, 422: {"model": ErrorOut}})
def set_mode(body: ControlIn, request: Request, principal: AdminKey) -> dict[str, Any]:
    """Set a scope's mode (`off` is the off-switch). Who and why go to the audit trail. Setting a
    category's mode also resets its circuit breaker."""
    runtime = _runtime(request)
    try:
        check_scope(body.scope, runtime.pack.category_names)
        runtime.control.set_mode(body.mode, scope=body.scope, changed_by=f"{principal.name} (key {principal.key_id})",
                                 reason=body.reason)
    except ControlError as exc:  # a category the pack does not have: no such scope to set
        raise ApiError(404, "not_found", f"body.scope: {exc}",
                       fields=[{"field": "body.scope", "problem": str(exc)}]) from None
    return {"scope": body.scope, "mode": runtime.control.mode(body.scope), **runtime.control.modes()}
