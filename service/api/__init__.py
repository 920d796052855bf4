"""The triage microservice (FastAPI): versioned JSON API under /v1, webhooks, health and metrics.

`create_app(settings)` builds the app on the embedded runtime (one pack, one state database, one
ticketing adapter). `triage serve` runs it with uvicorn, plus in-process workers for queued tickets.
"""

from service.api.app import create_app

__all__ = ["create_app"]
