"""Reviews: the escalations waiting for a person, and their answers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from agent.state import ReviewAnswer
from service.api.auth import ReviewerKey
from service.api.errors import ApiError
from service.api.schemas import DecisionOut, ErrorOut, ReviewIn, ReviewListOut, ReviewOut
from service.approvals import ReviewError
from service.runtime import Embedded

router = APIRouter(prefix="/v1/reviews", tags=["reviews"],
                   responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 429: {"model": ErrorOut}})


def _runtime(request: Request) -> Embedded:
    runtime: Embedded = request.app.state.runtime
    return runtime


@router.get("", response_model=ReviewListOut)
def list_reviews(request: Request, _: ReviewerKey) -> Any:
    """Pending reviews, oldest first. Requests past their expiry go to the human queue first."""
    runtime = _runtime(request)
    expired = runtime.expire_reviews()
    return {"pending": runtime.approvals.pending(), "expired_now": [r["run_id"] for r in expired]}


@router.get("/{run_id}", response_model=ReviewOut, responses={404: {"model": ErrorOut}})
def read_review(run_id: str, request: Request, _: ReviewerKey) -> Any:
    review = _runtime(request).approvals.get(run_id)
    if review is None:
        raise ApiError(404, "not_found", f"run {run_id} has no review request")
    return review


@router.post("/{run_id}", response_model=DecisionOut,
             responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}, 422: {"model": ErrorOut}})
def answer_review(run_id: str, body: ReviewIn, request: Request,
                  principal: ReviewerKey) -> Any:
    """Approve, edit (with the reply to send), reject, or reroute (with the category) the proposed action.

    The answer names the digest of the action the reviewer saw; an answer about another version, a
    second answer, or one after expiry is refused with 409. The reviewer is the API key's name."""
    runtime = _runtime(request)
    if runtime.approvals.get(run_id) is None:
        raise ApiError(404, "not_found", f"run {run_id} has no review request")
    extra: dict[str, Any] = {}
    if body.verdict == "edit":
        if not body.reply:
            raise ApiError(422, "invalid_request", "body.reply: an edit needs the reply to send",
                           fields=[{"field": "body.reply", "problem": "required with verdict edit"}])
        extra["reply"] = body.reply
    if body.verdict == "reroute":
        if not body.category or not runtime.pack.has_category(body.category):
            problem = f"must be one of {', '.join(runtime.pack.category_names)}"
            raise ApiError(422, "invalid_request", f"body.category: {problem}",
                           fields=[{"field": "body.category", "problem": problem}])
        extra["category"] = body.category
        extra["queue"] = runtime.pack.category(body.category).target_queue
    answer = ReviewAnswer(verdict=body.verdict, reviewer=f"{principal.name} (key {principal.key_id})",
                          digest=body.digest, comment=body.comment, **extra)
    try:
        return runtime.answer(run_id, answer)
    except ReviewError as exc:
        raise ApiError(409, "conflict", str(exc)) from None
