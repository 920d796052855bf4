"""Small in-memory fakes of the four vendor APIs, served through httpx.MockTransport.

Each answers with the paths, payload shapes, status codes and headers the vendors document (see
../shared/docs/helpdesk-apis.md), keeps tickets and comments in dicts, and can be told to fail: the
next request(s) get a given status and headers, or raise a transport error, before or after the fake
has applied them (a write that landed but whose answer was lost).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx
from pydantic import SecretStr

from integrations.contract import HelpdeskAdapter
from integrations.freshdesk import FreshdeskAdapter, FreshdeskSettings
from integrations.jira_sm import JiraSMAdapter, JiraSMSettings
from integrations.servicenow import ServiceNowAdapter, ServiceNowSettings
from integrations.zendesk import ZendeskAdapter, ZendeskSettings

Route = Callable[..., httpx.Response]


class FakeClock:
    """Monotonic and wall clocks that only move when the code under test sleeps."""

    def __init__(self, wall: float = 1_795_000_000.0) -> None:
        self.mono = 0.0
        self.wall = wall
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.mono

    def time(self) -> float:
        return self.wall

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.mono += seconds
        self.wall += seconds

    def iso(self, offset_s: float = 0.0) -> str:
        return datetime.fromtimestamp(self.wall + offset_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Fault:
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: type[httpx.TransportError] | None = None
    method: str | None = None
    after_applying: bool = False
    """Apply the request first, then fail: the write landed, its answer was lost."""


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class FakeApi:
    """Routing, credentials, fault injection and a request log shared by the four fakes."""

    def __init__(self, clock: FakeClock, authorization: str) -> None:
        self.clock = clock
        self.authorization = authorization
        self.requests: list[httpx.Request] = []
        self.faults: list[Fault] = []
        self.routes: list[tuple[str, re.Pattern[str], Route]] = []
        self.hooks: list[tuple[str, Callable[[], None]]] = []
        self._stamp = itertools.count(1)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def route(self, method: str, pattern: str, handler: Route) -> None:
        self.routes.append((method, re.compile(pattern + "$"), handler))

    def fail_next(self, status: int = 500, *, headers: dict[str, str] | None = None, body: bytes = b"",
                  error: type[httpx.TransportError] | None = None, method: str | None = None, times: int = 1,
                  after_applying: bool = False) -> None:
        for _ in range(times):
            self.faults.append(Fault(status, dict(headers or {}), body, error, method, after_applying))

    def before_next(self, method: str, action: Callable[[], None]) -> None:
        """Run `action` just before the next `method` request is handled (a person acting mid-write)."""
        self.hooks.append((method, action))

    def writes(self, method: str | None = None) -> list[httpx.Request]:
        return [r for r in self.requests if r.method != "GET" and (method is None or r.method == method)]

    def stamp(self) -> str:
        """A fresh updated_at: every write moves it, even within one fake second."""
        return self.clock.iso(next(self._stamp))

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        hook = next((h for h in self.hooks if h[0] == request.method), None)
        if hook is not None:
            self.hooks.remove(hook)
            hook[1]()
        fault = next((f for f in self.faults if f.method in (None, request.method)), None)
        if fault is not None:
            self.faults.remove(fault)
            if not fault.after_applying:
                return self._fail(fault, request)
        if request.headers.get("Authorization") != self.authorization:
            return self.unauthorized()
        response = self._dispatch(request)
        if fault is not None:
            return self._fail(fault, request)
        return response

    def _fail(self, fault: Fault, request: httpx.Request) -> httpx.Response:
        if fault.error is not None:
            raise fault.error("injected by the fake", request=request)
        return httpx.Response(fault.status, headers=fault.headers, content=fault.body)

    def _dispatch(self, request: httpx.Request) -> httpx.Response:
        for method, pattern, handler in self.routes:
            match = pattern.match(request.url.path)
            if method == request.method and match:
                return handler(request, *match.groups())
        return self.not_found()

    def unauthorized(self) -> httpx.Response:
        return httpx.Response(401, json={"error": "Couldn't authenticate you"})

    def not_found(self) -> httpx.Response:
        return httpx.Response(404, json={"error": "RecordNotFound", "description": "Not found"})


def add_missing(response: httpx.Response, headers: dict[str, str]) -> None:
    """The system's usual headers, unless the answer (an injected fault) already set them."""
    for name, value in headers.items():
        response.headers.setdefault(name, value)


def _body(request: httpx.Request) -> Any:
    return json.loads(request.content or b"null")


# --- Zendesk ---------------------------------------------------------------------------------------------


class FakeZendesk(FakeApi):
    """Ticketing API v2: tickets, comments, safe updates (409), Idempotency-Key, X-Rate-Limit headers."""

    EMAIL, TOKEN = "agent@example.com", "zd-token"

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock, basic(f"{self.EMAIL}/token", self.TOKEN))
        self.tickets: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.idempotent: dict[str, httpx.Response] = {}
        self._ids = itertools.count(101)
        self.route("GET", r"/api/v2/tickets/(\d+)\.json", self._get)
        self.route("GET", r"/api/v2/tickets/(\d+)/comments\.json", self._get_comments)
        self.route("PUT", r"/api/v2/tickets/(\d+)\.json", self._put)

    def handle(self, request: httpx.Request) -> httpx.Response:
        response = super().handle(request)
        add_missing(response, {"X-Rate-Limit": "700", "X-Rate-Limit-Remaining": "699"})
        return response

    def create(self, subject: str, body: str, requester: str) -> str:
        tid = next(self._ids)
        self.tickets[tid] = {"id": tid, "url": f"https://acme.zendesk.com/api/v2/tickets/{tid}.json",
                             "subject": subject, "description": body, "requester_id": 9001, "status": "new",
                             "priority": None, "group_id": None, "assignee_id": None, "tags": [],
                             "custom_fields": [], "created_at": self.clock.iso(), "updated_at": self.stamp()}
        self.comments[tid] = [self._comment(body, public=True, author=9001)]
        return str(tid)

    def human_edit(self, ticket_id: str, native: dict[str, Any]) -> None:
        ticket = self.tickets[int(ticket_id)]
        self._apply(ticket, native)
        ticket["updated_at"] = self.stamp()

    def _comment(self, body: str, public: bool, author: int) -> dict[str, Any]:
        return {"id": next(self._ids) * 1000, "type": "Comment", "author_id": author, "body": body,
                "html_body": f"<p>{body}</p>", "plain_body": body, "public": public, "created_at": self.clock.iso()}

    def _get(self, request: httpx.Request, tid: str) -> httpx.Response:
        if int(tid) not in self.tickets:
            return self.not_found()
        return httpx.Response(200, json={"ticket": self.tickets[int(tid)]})

    def _get_comments(self, request: httpx.Request, tid: str) -> httpx.Response:
        if int(tid) not in self.tickets:
            return self.not_found()
        comments = self.comments[int(tid)]
        return httpx.Response(200, json={"comments": comments, "next_page": None, "previous_page": None,
                                         "count": len(comments)})

    def _put(self, request: httpx.Request, tid: str) -> httpx.Response:
        key = request.headers.get("Idempotency-Key")
        if key in self.idempotent:
            cached = self.idempotent[key]
            return httpx.Response(cached.status_code, content=cached.content,
                                  headers={"x-idempotency-lookup": "hit", "Content-Type": "application/json"})
        ticket = self.tickets.get(int(tid))
        if ticket is None:
            return self.not_found()
        update = _body(request).get("ticket")
        if update is None:  # the documented gotcha: a flat body answers 200 and applies nothing
            return httpx.Response(200, json={"ticket": ticket})
        if update.get("safe_update") and update.get("updated_stamp") != ticket["updated_at"]:
            return httpx.Response(409, json={"error": "UpdateConflict",
                                             "description": "Safe Update prevented the update due to outdated "
                                                            "ticket data. Please fetch the latest ticket data "
                                                            "and try again."})
        if "priority" in update and update["priority"] not in ("low", "normal", "high", "urgent"):
            return httpx.Response(422, json={"error": "RecordInvalid", "details": {"priority": "invalid"}})
        self._apply(ticket, update)
        comment = update.get("comment")
        if comment:
            self.comments[int(tid)].append(self._comment(comment["body"], comment.get("public", True), 7))
        ticket["updated_at"] = self.stamp()
        response = httpx.Response(200, json={"ticket": ticket}, headers={"x-idempotency-lookup": "miss"})
        if key:
            self.idempotent[key] = response
        return response

    @staticmethod
    def _apply(ticket: dict[str, Any], update: dict[str, Any]) -> None:
        for name in ("priority", "group_id", "assignee_id", "tags", "status"):
            if name in update:
                ticket[name] = update[name]
        for item in update.get("custom_fields", []):
            ticket["custom_fields"] = [f for f in ticket["custom_fields"] if f["id"] != item["id"]] + [item]


# --- Jira Service Management -----------------------------------------------------------------------------


class FakeJira(FakeApi):
    """Platform issue read/edit/assignee and the JSM request comment endpoints."""

    EMAIL, TOKEN = "agent@example.com", "jira-token"

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock, basic(self.EMAIL, self.TOKEN))
        self.issues: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, list[dict[str, Any]]] = {}
        self._ids = itertools.count(10001)
        self.route("GET", r"/rest/api/3/issue/([A-Z]+-\d+)", self._get)
        self.route("PUT", r"/rest/api/3/issue/([A-Z]+-\d+)", self._edit)
        self.route("PUT", r"/rest/api/3/issue/([A-Z]+-\d+)/assignee", self._assign)
        self.route("GET", r"/rest/servicedeskapi/request/([A-Z]+-\d+)/comment", self._get_comments)
        self.route("POST", r"/rest/servicedeskapi/request/([A-Z]+-\d+)/comment", self._add_comment)

    def not_found(self) -> httpx.Response:
        return httpx.Response(404, json={"errorMessages": ["Issue does not exist or you do not have permission "
                                                           "to see it."], "errors": {}})

    def create(self, subject: str, body: str, requester: str) -> str:
        number = next(self._ids)
        key = f"SD-{number - 10000}"
        doc = {"type": "doc", "version": 1,
               "content": [{"type": "paragraph", "content": [{"type": "text", "text": body}]}]}
        self.issues[key] = {"id": str(number), "key": key, "fields": {
            "summary": subject, "description": doc, "status": {"name": "Waiting for support"},
            "reporter": {"accountId": "557058:req", "emailAddress": requester, "displayName": "Requester"},
            "priority": {"name": "Medium", "id": "3"}, "labels": [], "assignee": None,
            "updated": self.stamp().replace("Z", ".000+0000"), "customfield_10050": None, "customfield_10051": None}}
        self.comments[key] = []
        return key

    def human_edit(self, key: str, native: dict[str, Any]) -> None:
        self.issues[key]["fields"].update(native)

    def _get(self, request: httpx.Request, key: str) -> httpx.Response:
        issue = self.issues.get(key)
        return httpx.Response(200, json=issue) if issue else self.not_found()

    def _edit(self, request: httpx.Request, key: str) -> httpx.Response:
        issue = self.issues.get(key)
        if issue is None:
            return self.not_found()
        edit = _body(request)
        fields, update = edit.get("fields", {}), edit.get("update", {})
        clash = set(fields) & set(update)
        if clash:
            return httpx.Response(400, json={"errorMessages": [], "errors": {
                name: "Field cannot be set in both 'fields' and 'update'" for name in clash}})
        if "priority" in fields and fields["priority"]["name"] not in ("Lowest", "Low", "Medium", "High", "Highest"):
            return httpx.Response(400, json={"errorMessages": [], "errors": {"priority": "invalid priority"}})
        issue["fields"].update(fields)
        for op in update.get("labels", []):
            labels = issue["fields"]["labels"]
            if "add" in op and op["add"] not in labels:
                labels.append(op["add"])
            if "remove" in op and op["remove"] in labels:
                labels.remove(op["remove"])
        issue["fields"]["updated"] = self.stamp().replace("Z", ".000+0000")
        return httpx.Response(204)

    def _assign(self, request: httpx.Request, key: str) -> httpx.Response:
        issue = self.issues.get(key)
        if issue is None:
            return self.not_found()
        issue["fields"]["assignee"] = {"accountId": _body(request)["accountId"]}
        return httpx.Response(204)

    def _get_comments(self, request: httpx.Request, key: str) -> httpx.Response:
        if key not in self.issues:
            return self.not_found()
        start, limit = int(request.url.params.get("start", 0)), int(request.url.params.get("limit", 50))
        values = self.comments[key][start:start + limit]
        return httpx.Response(200, json={"size": len(values), "start": start, "limit": limit,
                                         "isLastPage": start + limit >= len(self.comments[key]), "values": values})

    def _add_comment(self, request: httpx.Request, key: str) -> httpx.Response:
        if key not in self.issues:
            return self.not_found()
        data = _body(request)
        comment = {"id": str(next(self._ids)), "body": data["body"], "public": data["public"],
                   "author": {"accountId": "557058:agent", "displayName": "Triage Agent"},
                   "created": {"iso8601": self.clock.iso(), "epochMillis": int(self.clock.time() * 1000)}}
        self.comments[key].append(comment)
        return httpx.Response(201, json=comment)


# --- ServiceNow ------------------------------------------------------------------------------------------

# Default Priority Lookup Rules: (impact, urgency) -> priority
_PRIORITY = {("1", "1"): "1", ("1", "2"): "2", ("2", "1"): "2", ("1", "3"): "3", ("2", "2"): "3", ("3", "1"): "3",
             ("2", "3"): "4", ("3", "2"): "4", ("3", "3"): "5"}


class FakeServiceNow(FakeApi):
    """Table API on incident and sys_journal_field; rate limit headers with a Unix reset time."""

    USER, PASSWORD = "triage.agent", "sn-password"

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock, basic(self.USER, self.PASSWORD))
        self.records: dict[str, dict[str, Any]] = {}
        self.journal: list[dict[str, Any]] = []
        self._numbers = itertools.count(10001)
        self.route("GET", r"/api/now/table/incident", self._query)
        self.route("GET", r"/api/now/table/incident/([0-9a-f]{32})", self._get)
        self.route("PATCH", r"/api/now/table/incident/([0-9a-f]{32})", self._patch)
        self.route("GET", r"/api/now/table/sys_journal_field", self._get_journal)

    def handle(self, request: httpx.Request) -> httpx.Response:
        response = super().handle(request)
        add_missing(response, {"X-RateLimit-Limit": "5000", "X-RateLimit-Rule": "b0a5b3c1db10",
                                 "X-RateLimit-Reset": str(int(self.clock.time()) + 3600)})
        return response

    def not_found(self) -> httpx.Response:
        return httpx.Response(404, json={"error": {"message": "No Record found",
                                                   "detail": "Record doesn't exist or ACL restricts the record "
                                                             "retrieval"}, "status": "failure"})

    def create(self, subject: str, body: str, requester: str) -> str:
        sys_id = uuid.uuid4().hex
        self.records[sys_id] = {"sys_id": sys_id, "number": f"INC{next(self._numbers):07d}",
                                "short_description": subject, "description": body, "caller_id": requester,
                                "state": "1", "impact": "3", "urgency": "3", "priority": "5",
                                "assignment_group": "", "assigned_to": "", "category": "inquiry",
                                "u_triage_tags": "", "sys_updated_on": self.stamp(), "sys_mod_count": "0"}
        return sys_id

    def human_edit(self, sys_id: str, native: dict[str, Any]) -> None:
        self._apply(self.records[sys_id], native)

    def _apply(self, record: dict[str, Any], update: dict[str, Any]) -> None:
        for name, value in update.items():
            if name in ("work_notes", "comments"):
                self.journal.append({"element_id": record["sys_id"], "element": name, "value": value,
                                     "sys_created_by": self.USER, "sys_created_on": self.clock.iso()})
            else:
                record[name] = str(value)
        record["priority"] = _PRIORITY[(record["impact"], record["urgency"])]
        record["sys_mod_count"] = str(int(record["sys_mod_count"]) + 1)
        record["sys_updated_on"] = self.stamp()

    def _query(self, request: httpx.Request) -> httpx.Response:
        query = request.url.params.get("sysparm_query", "")
        number = query.removeprefix("number=")
        found = [{"sys_id": r["sys_id"]} for r in self.records.values() if r["number"] == number]
        return httpx.Response(200, json={"result": found})

    def _get(self, request: httpx.Request, sys_id: str) -> httpx.Response:
        record = self.records.get(sys_id)
        return httpx.Response(200, json={"result": record}) if record else self.not_found()

    def _patch(self, request: httpx.Request, sys_id: str) -> httpx.Response:
        record = self.records.get(sys_id)
        if record is None:
            return self.not_found()
        self._apply(record, _body(request))
        return httpx.Response(200, json={"result": record})

    def _get_journal(self, request: httpx.Request) -> httpx.Response:
        query = request.url.params.get("sysparm_query", "")
        sys_id = query.split("^", 1)[0].removeprefix("element_id=")
        entries = [{k: v for k, v in e.items() if k != "element_id"} for e in self.journal
                   if e["element_id"] == sys_id]
        return httpx.Response(200, json={"result": entries})


# --- Freshdesk -------------------------------------------------------------------------------------------


class FakeFreshdesk(FakeApi):
    """Tickets, conversations (paged), notes and replies; X-RateLimit-Total/Remaining headers."""

    API_KEY = "fd-api-key"

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock, basic(self.API_KEY, "X"))
        self.tickets: dict[int, dict[str, Any]] = {}
        self.conversations: dict[int, list[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self.route("GET", r"/api/v2/tickets/(\d+)", self._get)
        self.route("PUT", r"/api/v2/tickets/(\d+)", self._put)
        self.route("GET", r"/api/v2/tickets/(\d+)/conversations", self._get_conversations)
        self.route("POST", r"/api/v2/tickets/(\d+)/notes", self._note)
        self.route("POST", r"/api/v2/tickets/(\d+)/reply", self._reply)

    def handle(self, request: httpx.Request) -> httpx.Response:
        response = super().handle(request)
        add_missing(response, {"X-RateLimit-Total": "3000", "X-RateLimit-Remaining": "2999",
                                 "X-RateLimit-Used-CurrentRequest": "1"})
        return response

    def unauthorized(self) -> httpx.Response:
        return httpx.Response(401, json={"code": "invalid_credentials", "message": "You have to be logged in to "
                                                                                  "perform this action."})

    def not_found(self) -> httpx.Response:
        return httpx.Response(404, content=b"")

    def create(self, subject: str, body: str, requester: str) -> str:
        tid = next(self._ids)
        self.tickets[tid] = {"id": tid, "subject": subject, "description": f"<div>{body}</div>",
                             "description_text": body, "requester_id": 5001, "status": 2, "priority": 1,
                             "group_id": None, "responder_id": None, "type": None, "tags": [],
                             "custom_fields": {"cf_category": None}, "created_at": self.clock.iso(),
                             "updated_at": self.stamp()}
        self.conversations[tid] = []
        return str(tid)

    def human_edit(self, ticket_id: str, native: dict[str, Any]) -> None:
        self.tickets[int(ticket_id)].update(native)

    def _get(self, request: httpx.Request, tid: str) -> httpx.Response:
        ticket = self.tickets.get(int(tid))
        return httpx.Response(200, json=ticket) if ticket else self.not_found()

    def _put(self, request: httpx.Request, tid: str) -> httpx.Response:
        ticket = self.tickets.get(int(tid))
        if ticket is None:
            return self.not_found()
        update = _body(request)
        if "priority" in update and update["priority"] not in (1, 2, 3, 4):
            return httpx.Response(400, json={"description": "Validation failed", "errors": [
                {"field": "priority", "message": "It should be one of these values: '1,2,3,4'",
                 "code": "invalid_value"}]})
        custom = update.pop("custom_fields", {})
        ticket.update(update)
        ticket["custom_fields"].update(custom)
        ticket["updated_at"] = self.stamp()
        return httpx.Response(200, json=ticket)

    def _get_conversations(self, request: httpx.Request, tid: str) -> httpx.Response:
        if int(tid) not in self.tickets:
            return self.not_found()
        page, per_page = int(request.url.params.get("page", 1)), int(request.url.params.get("per_page", 30))
        entries = self.conversations[int(tid)][(page - 1) * per_page:page * per_page]
        return httpx.Response(200, json=entries)

    def _post(self, tid: str, body_html: str, private: bool) -> httpx.Response:
        if int(tid) not in self.tickets:
            return self.not_found()
        text = re.sub(r"<br\s*/?>", "\n", body_html)
        text = re.sub(r"<[^>]+>", "", text).replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
        text = text.replace("&#x27;", "'").replace("&amp;", "&")
        entry = {"id": next(self._ids) + 5000, "body": body_html, "body_text": text, "private": private,
                 "incoming": False, "user_id": 42, "ticket_id": int(tid), "created_at": self.clock.iso(),
                 "updated_at": self.clock.iso()}
        self.conversations[int(tid)].append(entry)
        return httpx.Response(201, json=entry)

    def _note(self, request: httpx.Request, tid: str) -> httpx.Response:
        data = _body(request)
        return self._post(tid, data["body"], data.get("private", True))

    def _reply(self, request: httpx.Request, tid: str) -> httpx.Response:
        return self._post(tid, _body(request)["body"], False)


# --- conformance harnesses (tests/integrations/conformance.py describes the interface) --------------------

GROUPS = {"finance": 360001, "identity": 360002}
SN_GROUPS = {"finance": "a" * 32, "identity": "b" * 32}
SN_USERS = {"ana": "c" * 32}


def options(**values: Any) -> dict[str, Any]:
    return values


class VendorHarness:
    """What the four vendor harnesses share: a fake, its clock, and 429 on demand."""

    fake: FakeApi
    clock: FakeClock
    adapter: HelpdeskAdapter
    signs_body = True
    signs_time = False

    def create_ticket(self, subject: str, body: str, requester: str) -> str:
        raise NotImplementedError

    @property
    def waits(self) -> list[float]:
        return self.clock.slept

    def rate_limit_next(self, retry_after_s: float) -> bool:
        self.fake.fail_next(429, headers={"Retry-After": f"{retry_after_s:g}"}, body=b'{"error": "rate limited"}')
        return True

    def clocks(self) -> dict[str, Any]:
        return {"transport": self.fake.transport, "sleep": self.clock.sleep, "clock": self.clock.monotonic,
                "now": self.clock.time}


class ZendeskHarness(VendorHarness):
    adapter: ZendeskAdapter
    SECRET = "zd-webhook-signing-secret"
    missing_ticket_id = "999999"
    webhook_auth_headers = ("X-Zendesk-Webhook-Signature",)
    signs_time = True

    def __init__(self, **overrides: Any) -> None:
        self.clock = FakeClock()
        self.fake = self.zendesk = FakeZendesk(self.clock)
        settings = ZendeskSettings(**options(
            base_url="https://acme.zendesk.com", email=FakeZendesk.EMAIL, api_token=SecretStr(FakeZendesk.TOKEN),
            webhook_secret=SecretStr(self.SECRET), group_ids=GROUPS, category_field_id=8001,
            assignee_ids={"ana": 7001}) | overrides)
        self.adapter = ZendeskAdapter(settings, **self.clocks())

    def create_ticket(self, subject: str, body: str, requester: str) -> str:
        return self.zendesk.create(subject, body, requester)

    def human_edit(self, ticket_id: str, fields: Mapping[str, Any]) -> None:
        native: dict[str, Any] = {}
        if "queue" in fields:
            native["group_id"] = GROUPS[fields["queue"]]
        if "priority" in fields:
            native["priority"] = fields["priority"]
        if "category" in fields:
            native["custom_fields"] = [{"id": 8001, "value": fields["category"]}]
        self.zendesk.human_edit(ticket_id, native)

    def signed_webhook(self, ticket_id: str, event_id: str, age_s: float = 0.0) -> tuple[dict[str, str], bytes]:
        stamp = self.clock.iso(-age_s)
        body = json.dumps({"type": "zen:event-type:ticket.created", "account_id": 2203, "id": event_id,
                           "time": stamp, "zendesk_event_version": "2022-11-06", "subject": f"zen:ticket:{ticket_id}",
                           "detail": {"id": ticket_id, "status": "NEW"}, "event": {}}).encode()
        signature = base64.b64encode(hmac.new(self.SECRET.encode(), stamp.encode() + body, hashlib.sha256).digest())
        return {"X-Zendesk-Webhook-Signature": signature.decode(), "X-Zendesk-Webhook-Signature-Timestamp": stamp,
                "X-Zendesk-Webhook-Id": "01GB6ZD1TMBKT0H7RJFB9WDPXS", "Content-Type": "application/json"}, body


class JiraHarness(VendorHarness):
    adapter: JiraSMAdapter
    SECRET = "jira-webhook-secret"
    missing_ticket_id = "SD-9999"
    webhook_auth_headers = ("X-Hub-Signature",)
    signs_time = True  # the payload's own timestamp, covered by the HMAC
    FIELDS: ClassVar[dict[str, str]] = {"category": "customfield_10050", "queue": "customfield_10051"}

    def __init__(self, **overrides: Any) -> None:
        self.clock = FakeClock()
        self.fake = self.jira = FakeJira(self.clock)
        settings = JiraSMSettings(**options(
            base_url="https://acme.atlassian.net", email=FakeJira.EMAIL, api_token=SecretStr(FakeJira.TOKEN),
            webhook_secret=SecretStr(self.SECRET), field_ids=self.FIELDS, option_fields=list(self.FIELDS.values()),
            account_ids={"ana": "5b10ac8d82e05b22cc7d4ef5"}) | overrides)
        self.adapter = JiraSMAdapter(settings, **self.clocks())

    def create_ticket(self, subject: str, body: str, requester: str) -> str:
        return self.jira.create(subject, body, requester)

    def human_edit(self, ticket_id: str, fields: Mapping[str, Any]) -> None:
        names = {"low": "Low", "normal": "Medium", "high": "High", "urgent": "Highest"}
        native: dict[str, Any] = {self.FIELDS[k]: {"value": v} for k, v in fields.items() if k in self.FIELDS}
        if "priority" in fields:
            native["priority"] = {"name": names[fields["priority"]]}
        self.jira.human_edit(ticket_id, native)

    def signed_webhook(self, ticket_id: str, event_id: str, age_s: float = 0.0) -> tuple[dict[str, str], bytes]:
        issue = self.jira.issues[ticket_id]
        body = json.dumps({"timestamp": int((self.clock.time() - age_s) * 1000), "webhookEvent": "jira:issue_created",
                           "issue_event_type_name": "issue_created", "user": {"accountId": "557058:req"},
                           "issue": {"id": issue["id"], "key": ticket_id, "fields": {}}}).encode()
        signature = hmac.new(self.SECRET.encode(), body, hashlib.sha256).hexdigest()
        return {"X-Hub-Signature": f"sha256={signature}", "X-Atlassian-Webhook-Identifier": event_id,
                "Content-Type": "application/json"}, body


class ServiceNowHarness(VendorHarness):
    adapter: ServiceNowAdapter
    TOKEN, HMAC_SECRET = "sn-shared-token-0123456789", "sn-hmac-secret"
    missing_ticket_id = "0" * 32
    webhook_auth_headers = ("X-Triage-Token", "X-Signature")

    def __init__(self, **overrides: Any) -> None:
        self.clock = FakeClock()
        self.fake = self.servicenow = FakeServiceNow(self.clock)
        settings = ServiceNowSettings(**options(
            base_url="https://acme.service-now.com", username=FakeServiceNow.USER,
            password=SecretStr(FakeServiceNow.PASSWORD), webhook_token=SecretStr(self.TOKEN),
            webhook_hmac_secret=SecretStr(self.HMAC_SECRET), group_ids=SN_GROUPS, user_ids=SN_USERS,
            tags_field="u_triage_tags") | overrides)
        self.adapter = ServiceNowAdapter(settings, **self.clocks())

    def create_ticket(self, subject: str, body: str, requester: str) -> str:
        return self.servicenow.create(subject, body, requester)

    def human_edit(self, ticket_id: str, fields: Mapping[str, Any]) -> None:
        pairs = {"urgent": ("1", "1"), "high": ("1", "2"), "normal": ("2", "2"), "low": ("3", "2")}
        native: dict[str, Any] = {}
        if "queue" in fields:
            native["assignment_group"] = SN_GROUPS[fields["queue"]]
        if "priority" in fields:
            native["impact"], native["urgency"] = pairs[fields["priority"]]
        if "category" in fields:
            native["category"] = fields["category"]
        self.servicenow.human_edit(ticket_id, native)

    def rate_limit_next(self, retry_after_s: float) -> bool:
        body = json.dumps({"error": {"message": "Rate limit exceeded", "detail": "..."}, "status": "failure"})
        self.fake.fail_next(429, headers={"Retry-After": f"{retry_after_s:g}", "X-RateLimit-Rule": "b0a5b3c1db10"},
                            body=body.encode())
        return True

    def signed_webhook(self, ticket_id: str, event_id: str, age_s: float = 0.0) -> tuple[dict[str, str], bytes]:
        record = self.servicenow.records[ticket_id]
        body = json.dumps({"event_id": event_id, "sys_id": ticket_id, "number": record["number"],
                           "event": "created"}).encode()
        signature = hmac.new(self.HMAC_SECRET.encode(), body, hashlib.sha256).hexdigest()
        return {"X-Triage-Token": self.TOKEN, "X-Signature": signature, "Content-Type": "application/json"}, body


class FreshdeskHarness(VendorHarness):
    adapter: FreshdeskAdapter
    TOKEN = "fd-shared-token-0123456789"
    missing_ticket_id = "999999"
    webhook_auth_headers = ("X-Triage-Token",)
    signs_body = False
    GROUPS: ClassVar[dict[str, int]] = {"finance": 43000001, "identity": 43000002}

    def __init__(self, **overrides: Any) -> None:
        self.clock = FakeClock()
        self.fake = self.freshdesk = FakeFreshdesk(self.clock)
        settings = FreshdeskSettings(**options(
            base_url="https://acme.freshdesk.com", api_key=SecretStr(FakeFreshdesk.API_KEY),
            webhook_token=SecretStr(self.TOKEN), group_ids=self.GROUPS,
            agent_ids={"ana": 43000100}) | overrides)
        self.adapter = FreshdeskAdapter(settings, **self.clocks())

    def create_ticket(self, subject: str, body: str, requester: str) -> str:
        return self.freshdesk.create(subject, body, requester)

    def human_edit(self, ticket_id: str, fields: Mapping[str, Any]) -> None:
        numbers = {"low": 1, "normal": 2, "high": 3, "urgent": 4}
        native: dict[str, Any] = {}
        if "queue" in fields:
            native["group_id"] = self.GROUPS[fields["queue"]]
        if "priority" in fields:
            native["priority"] = numbers[fields["priority"]]
        self.freshdesk.human_edit(ticket_id, native)

    def signed_webhook(self, ticket_id: str, event_id: str, age_s: float = 0.0) -> tuple[dict[str, str], bytes]:
        body = json.dumps({"freshdesk_webhook": {"ticket_id": ticket_id, "event_id": event_id,
                                                 "event": "created"}}).encode()
        return {"X-Triage-Token": self.TOKEN, "Content-Type": "application/json"}, body
