"""The FastAPI application: wiring, lifespan (runtime, workers), middleware and routers."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from service.api.auth import Authenticator
from service.api.errors import install_error_handlers
from service.api.limits import BodySizeLimit, RateLimiter
from service.api.routes_control import router as control_router
from service.api.routes_ops import router as ops_router
from service.api.routes_reviews import router as reviews_router
from service.api.routes_tickets import router as tickets_router
from service.api.routes_webhooks import router as webhooks_router
from service.api.schemas import ErrorOut
from service.intake import Intake
from service.keys import ApiKeys
from service.metrics import TriageCollector
from service.polling import start_polling
from service.runtime import Embedded, open_embedded
from service.settings import Settings
from service.workers import WorkerPool

API_VERSION = "1"
logger = logging.getLogger("triage.api")


def create_app(settings: Settings, runtime: Embedded | None = None, *, start_workers: bool = True) -> FastAPI:
    """The service on one embedded runtime. Tests may hand in a runtime; workers start with the app."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = runtime or open_embedded(settings)
        app.state.runtime = rt
        app.state.intake = Intake(rt)
        app.state.auth = Authenticator(ApiKeys(rt.db), RateLimiter(settings.rate_limit_per_minute, settings.rate_burst))
        registry = CollectorRegistry()
        llm = rt.engine.context.llm
        registry.register(TriageCollector(rt.db, rt.control.mode, llm.status if llm else None))
        app.state.metrics = registry
        pool = WorkerPool(app.state.intake, threads=settings.worker_threads if start_workers else 0)
        pool.start()
        app.state.workers = pool
        stop_polling = threading.Event()
        if settings.poll_interval_s > 0 and start_workers:
            start_polling(app.state.intake, settings.poll_interval_s, stop_polling)
        logger.info("serving pack %s (%s helpdesk, %d workers)", rt.pack.name, rt.helpdesk.name, pool.threads)
        try:
            yield
        finally:
            stop_polling.set()
            pool.stop()

    app = FastAPI(
        title="Ticket triage agent",
        version=API_VERSION,
        description="First-line support-ticket triage: ingest tickets, read decisions and audit trails, "
                    "answer reviews, switch the agent off. Every endpoint but health and metrics needs an API key.",
        lifespan=lifespan,
        responses={413: {"model": ErrorOut, "description": "Request body over the size limit"}},
    )
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.state.settings = settings
    for router in (tickets_router, reviews_router, control_router, webhooks_router, ops_router):
        app.include_router(router)
    return app
