"""Inbound webhooks: one endpoint per ticketing system, verified before anything else, deduplicated.

- `/v1/webhooks/{helpdesk}` (the connected system, e.g. `zendesk`): the adapter verifies the vendor's
  signature or token and names the delivery; the ticket is then read through the vendor's API.
- `/v1/webhooks/generic`: any sender that signs with Standard Webhooks (or, with `webhook_auth=token`,
  sends a shared token in X-Webhook-Token); the body carries the ticket itself:
  `{"type": "ticket.created", "ticket": {<the body of POST /v1/tickets>}}`.

A failed verification is 401 and nothing else happens: no row, no job, no log of the body. A delivery id
seen before is acknowledged (200, `duplicate: true`) without a second run.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from integrations.contract import BadWebhookPayload, WebhookEvent, WebhookRejected
from integrations.webhooks import header, verify_standard, verify_token
from service.api.errors import ApiError
from service.api.schemas import ErrorOut, TicketIn
from service.intake import Incoming, Intake
from service.settings import Settings

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"],
                   responses={401: {"model": ErrorOut}, 404: {"model": ErrorOut}, 422: {"model": ErrorOut}})

GENERIC = "generic"


def _verify_generic(settings: Settings, headers: dict[str, str], body: bytes) -> str:
    """Returns the delivery id."""
    if settings.webhook_auth == "token":
        verify_token(headers, "X-Webhook-Token", [t.get_secret_value() for t in settings.webhook_tokens])
        delivery = header(headers, "webhook-id") or header(headers, "X-Webhook-Id")
        if not delivery:
            raise BadWebhookPayload("send a delivery id in the webhook-id header (redeliveries repeat it)")
        return delivery
    secrets = [s.get_secret_value() for s in settings.webhook_secrets]
    if not secrets:
        raise WebhookRejected("no webhook secret is configured (TRIAGE_WEBHOOK_SECRETS)")
    return verify_standard(headers, body, secrets)


def _generic_ticket(body: bytes) -> tuple[str, TicketIn]:
    try:
        payload = json.loads(body)
        kind = str(payload.get("type", "ticket.created"))
        ticket = TicketIn.model_validate(payload["ticket"])
    except (ValueError, AttributeError, KeyError, TypeError) as exc:
        raise BadWebhookPayload(f"body must be JSON with a 'ticket' object ({type(exc).__name__})") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise BadWebhookPayload(f"ticket.{where}: {first['msg']}") from None
    return kind, ticket


@router.post("/{system}")
async def receive_webhook(system: str, request: Request) -> dict[str, Any]:
    """Verify, deduplicate, then queue the triage (202-like: the answer says `queued` with the run id)."""
    intake: Intake = request.app.state.intake
    settings: Settings = request.app.state.settings
    helpdesk = intake.runtime.helpdesk
    if system not in (GENERIC, helpdesk.name):
        raise ApiError(404, "not_found", f"no webhook endpoint for '{system}' (this service takes '{GENERIC}' "
                                         f"and '{helpdesk.name}')")
    body = await request.body()
    headers = dict(request.headers)
    try:
        if system == GENERIC:
            delivery = _verify_generic(settings, headers, body)
            kind, ticket = _generic_ticket(body)
            event = WebhookEvent(system=GENERIC, event_id=delivery, ticket_id=ticket.ticket_id,
                                 kind=kind.removeprefix("ticket."))
        else:
            event = await run_in_threadpool(helpdesk.verify_webhook, headers, body)
    except WebhookRejected as exc:
        raise ApiError(401, "unauthenticated", f"webhook verification failed: {exc}") from None
    except BadWebhookPayload as exc:
        raise ApiError(422, "invalid_request", str(exc)) from None

    first_time, run_id = await run_in_threadpool(intake.take_delivery, event)
    if not first_time:
        return {"status": "duplicate", "duplicate": True, "event_id": event.event_id, "run_id": run_id}
    if system == GENERIC:
        incoming = Incoming(text=ticket.text, subject=ticket.subject, requester=ticket.requester,
                            ticket_id=ticket.ticket_id, channel="webhook", fields=dict(ticket.fields),
                            headers=dict(ticket.headers),
                            event="reopened" if event.kind == "reopened" else "message")
        outcome = await run_in_threadpool(lambda: intake.ingest(incoming, queued=True, idempotency_key=event.event_id,
                                                                principal=f"webhook:{GENERIC}"))
    else:
        outcome = await run_in_threadpool(intake.from_helpdesk_event, event)
    await run_in_threadpool(intake.link_delivery, event, outcome)
    return {"status": outcome.kind, "duplicate": False, "event_id": event.event_id, "run_id": outcome.run_id,
            "ticket_id": outcome.ticket_id, "reason": outcome.reason}
