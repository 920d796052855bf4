"""One error shape for every 4xx: `{"error": {"code", "message", "fields": [{"field", "problem"}]}}`.

A user's mistake always gets a 4xx naming what is wrong; only our own bugs may produce a 500, and those
never echo the request (it may hold a ticket's text).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger("triage.api")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None,
                 fields: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}
        self.fields = fields or []


def error_body(code: str, message: str, fields: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or []}}


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


def _methods_of(request: Request) -> set[str]:
    methods: set[str] = set()
    for route in request.app.routes:
        path_regex = getattr(route, "path_regex", None)
        if path_regex is not None and path_regex.match(request.url.path):
            methods |= set(getattr(route, "methods", None) or ())
    return methods


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, exc.fields), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # Never echo the offending input back (`input` may be a ticket's text): field and problem only.
        fields = [{"field": _field_name(e.get("loc", ())), "problem": str(e.get("msg", "invalid"))}
                  for e in exc.errors()]
        first = fields[0] if fields else {"field": "body", "problem": "invalid"}
        return JSONResponse(error_body("invalid_request", f"{first['field']}: {first['problem']}", fields),
                            status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # FastAPI could not decode the body: the same answer as any bad body
            return JSONResponse(error_body("invalid_request", "body: not valid JSON (UTF-8)",
                                           [{"field": "body", "problem": "not valid JSON"}]), status_code=422)
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:  # name every method of the path, not just those of the first route
            headers["Allow"] = ", ".join(sorted(_methods_of(request)))
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.error("internal error on %s %s: %s", request.method, request.url.path, type(exc).__name__,
                     exc_info=exc)
        return JSONResponse(error_body("internal", "internal error; the operator's log has the details"),
                            status_code=500)
