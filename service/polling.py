"""Polling for helpdesks that send no webhooks (Request Tracker): changes found by polling go through the
same door as verified webhooks (deduplicated by event id, then the conversation rules, then a job)."""

from __future__ import annotations

import logging
import threading
from typing import Any

from integrations.contract import WebhookEvent
from service.intake import Intake

logger = logging.getLogger(__name__)


def handle_event(intake: Intake, event: WebhookEvent) -> None:
    """What the webhook route does with a verified event, for a polled one."""
    first_time, _run = intake.take_delivery(event)
    if first_time:
        intake.link_delivery(event, intake.from_helpdesk_event(event))


def poller_for(intake: Intake) -> Any | None:
    """The helpdesk's poller, if it needs one (RT); None for helpdesks that push webhooks."""
    from integrations.rt import RequestTrackerAdapter

    helpdesk = intake.runtime.helpdesk
    if isinstance(helpdesk, RequestTrackerAdapter):
        from integrations.rt_poll import RTPoller

        return RTPoller(helpdesk, intake.runtime.settings.home / "rt-poll.db")
    return None


def start_polling(intake: Intake, interval_s: float, stop: threading.Event) -> threading.Thread | None:
    """Poll in a background thread until `stop` is set; None when the helpdesk needs no polling."""
    poller = poller_for(intake)
    if poller is None:
        return None
    thread = threading.Thread(target=poller.run, args=(lambda event: handle_event(intake, event),),
                              kwargs={"interval_s": interval_s, "stop": stop}, name="triage-poller", daemon=True)
    thread.start()
    logger.info("polling %s every %.0f s", intake.runtime.helpdesk.name, interval_s)
    return thread
