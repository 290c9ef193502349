"""The transport-independent core: route matching, auth, `_method`, GET budget, faults,
validation, envelopes, pagination and the `/_sandbox/` inspection endpoints.

``SandboxApp.handle(method, target, headers, body)`` returns a ``Response``; the HTTP servers
(threaded, asyncio) only move bytes. Nothing here spells a BICS path: routes come from
``bics.routes.build_routes(overrides)``.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import math
import random
import re
import threading
from collections.abc import Callable, Mapping
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl, urlencode

from bics.routes import Route, build_routes
from bics.sandbox import handlers, inspect
from bics.sandbox.config import FaultRule, SandboxConfig
from bics.sandbox.context import ApiError, Ctx, Out, Response, invalid
from bics.sandbox.state import Account, Clock, Scheduler
from bics.sandbox.webhooks import Deliverer
from bics.shapes import SHAPES
from bics.validation import validate_request

log = logging.getLogger("bics.sandbox")
PREFIX = "/api/v2/"
INSPECT = "/_sandbox"
JSON = "application/json"


# ---------------------------------------------------------------------- routing
_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class Router:
    """Precompiled: exact literal paths in a dict, templated ones as anchored regexes sorted
    so that more literal segments win (``verify/otp/{id}/cancel`` before
    ``verify/otp/{id}/{token}``)."""

    def __init__(self, routes: Mapping[str, Route]) -> None:
        self.routes = dict(routes)
        self.literal: dict[tuple[str, str], Route] = {}
        patterns: list[tuple[int, int, str, re.Pattern, Route]] = []
        for route in routes.values():
            path = route.path.strip("/")
            if "{" not in path:
                key = (route.method, path)
                if key in self.literal:
                    raise ValueError(f"routes {self.literal[key].name} and {route.name} collide")
                self.literal[key] = route
                continue
            regex = "^" + _PARAM.sub(
                lambda m: f"(?P<{m.group(1)}>[^/]+)", re.escape(path).replace(r"\{", "{").replace(r"\}", "}")
            )
            regex += "$"
            literals = sum(1 for seg in path.split("/") if "{" not in seg)
            patterns.append((-literals, -len(path), route.method, re.compile(regex), route))
        patterns.sort(key=lambda p: (p[0], p[1]))
        self.by_method: dict[str, list[tuple[re.Pattern, Route]]] = {}
        for _, _, method, regex, route in patterns:
            self.by_method.setdefault(method, []).append((regex, route))
        self._literal_paths = {p for _, p in self.literal}

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        route = self.literal.get((method, path))
        if route is not None:
            return route, {}
        for regex, route in self.by_method.get(method, ()):
            m = regex.match(path)
            if m:
                return route, m.groupdict()
        return None

    def path_exists(self, path: str) -> bool:
        if path in self._literal_paths:
            return True
        return any(regex.match(path) for pats in self.by_method.values() for regex, _ in pats)


# ---------------------------------------------------------------------- bodies
def parse_body(headers: Mapping[str, str], raw: bytes) -> tuple[dict, dict]:
    """(fields, files) from a JSON, form-urlencoded or multipart body."""
    if not raw:
        return {}, {}
    ctype = headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        return _multipart(ctype, raw)
    if ctype.startswith("application/x-www-form-urlencoded"):
        return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)), {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, f"Malformed JSON body: {exc.msg}.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    return data, {}


def _multipart(ctype: str, raw: bytes) -> tuple[dict, dict]:
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + ctype.encode() + b"\r\nMIME-Version: 1.0\r\n\r\n" + raw
    )
    fields: dict[str, Any] = {}
    files: dict[str, tuple[str, bytes]] = {}
    if not message.is_multipart():
        raise ApiError(400, "Malformed multipart body.")
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        filename = part.get_filename()
        payload = part.get_payload(decode=True) or b""
        if filename is not None:
            files[name] = (filename, payload)
        else:
            fields[name] = payload.decode(part.get_content_charset() or "utf-8", "replace")
    return fields, files


def dumps(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


# ---------------------------------------------------------------------- the app
Handler = Callable[[Ctx], Out]


class SandboxApp:
    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self._initial = json.dumps(self._config_snapshot(), default=list)
        self.clock = Clock(self.config.time_zone)
        self.scheduler = Scheduler(self.clock)
        self.set_routes(self.config.route_overrides)
        self.accounts: dict[str, Account] = {}
        self.minted: dict[str, tuple[str, float]] = {}  # minted token -> (account key, exp)
        self._lock = threading.Lock()
        self.fault_rng = random.Random(self.config.seed)
        self._fault_counts: dict[int, int] = {}

        self._table = handlers.table
        self.handlers: dict[str, Handler] = handlers.table(self.routes)
        self.deliverer = Deliverer(self)

    def set_routes(self, overrides: Mapping[str, Any] | None) -> None:
        """(Re)build the route table and router from ``build_routes(overrides)``."""
        routes = build_routes(overrides or None)
        router = Router(routes)
        self.config.route_overrides = dict(overrides or {})
        self.routes, self.router = routes, router
        if hasattr(self, "_table"):
            self.handlers = self._table(routes)

    # --------------------------------------------------------------- lifecycle
    def start(self) -> None:
        self.scheduler.start()
        self.deliverer.start()

    def stop(self) -> None:
        self.scheduler.stop()
        self.deliverer.stop()

    def _config_snapshot(self) -> dict:
        from dataclasses import asdict

        return asdict(self.config)

    def reset(self) -> None:
        with self._lock:
            self.accounts.clear()
            self.minted.clear()
            self.clock.reset()
            self.scheduler.clear()
            self.deliverer.clear()
            initial = json.loads(self._initial)
            overrides = initial.pop("route_overrides", None) or {}
            if overrides != self.config.route_overrides:
                self.set_routes(overrides)
            self.config.update(initial)
            self.clock.set_zone(self.config.time_zone)
            self.fault_rng = random.Random(self.config.seed)
            self._fault_counts.clear()

    # --------------------------------------------------------------- accounts
    def account_for(self, token: str) -> Account | None:
        if not token:
            return None
        key = token
        minted = self.minted.get(token)
        if minted is not None:
            key, exp = minted
            if self.clock.now() >= exp:
                return None
        elif self.config.tokens and token not in self.config.tokens:
            return None
        account = self.accounts.get(key)
        if account is None:
            with self._lock:
                account = self.accounts.get(key)
                if account is None:
                    account = Account(key, self.config.seed, self.config.balance)
                    self.accounts[key] = account
        return account

    def find_accounts(self, token: str | None) -> list[Account]:
        if token:
            account = self.accounts.get(token) or self.accounts.get(self.minted.get(token, (token,))[0])
            return [account] if account else []
        return list(self.accounts.values())

    # --------------------------------------------------------------- entry point
    def handle(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes, host: str = "127.0.0.1"
    ) -> Response:
        path, _, qs = target.partition("?")
        if path.startswith(INSPECT):
            try:
                return self._json(200, self.inspect(method, path[len(INSPECT) :], qs, body))
            except ApiError as exc:
                return self._json(exc.http, exc.body())
            except (ValueError, TypeError, KeyError) as exc:
                return self._json(400, {"status": "Bad Request", "code": 400, "message": str(exc)})
        if not path.startswith(PREFIX):
            return self._json(404, ApiError(404, "Not found.").body())
        sub = path[len(PREFIX) :].strip("/")
        query = dict(parse_qsl(qs, keep_blank_values=True)) if qs else {}
        override = query.pop("_method", None)
        if override and method == "POST":
            method = override.upper()
        base = f"http://{host}{PREFIX}"
        try:
            return self._dispatch(method, sub, query, headers, body, base)
        except ApiError as exc:
            extra = [(k, v) for k, v in exc.headers.items()]
            return self._json(exc.http, exc.body(), extra)
        except Exception:  # a sandbox bug: answer 500 like a server would, and log it
            log.exception("sandbox handler failed for %s %s", method, path)
            return self._json(500, ApiError(500, "Server Error (sandbox bug).").body())

    def _dispatch(
        self, method: str, sub: str, query: dict, headers: Mapping[str, str], body: bytes, base: str
    ) -> Response:
        found = self.router.match(method, sub)
        if found is None:
            if self.router.path_exists(sub):
                raise ApiError(405, f"The {method} method is not supported for this route.")
            raise ApiError(404, "Not found.")
        route, params = found
        token = query.pop("access_token", None)
        auth = headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            token = auth[7:].strip() or token
        account = self.account_for(token or "")
        if account is None:
            raise ApiError(401, "Authentication Error")
        if method == "GET":
            self._spend_get(account)
        fault = self._pick_fault(route.name)
        delay_before = 0.0
        if fault is not None:
            if fault.kind == "error":
                raise ApiError(fault.status, "Something went wrong on our end (sandbox fault).")
            if fault.kind == "rate_limit":
                raise ApiError(429, "Too Many Requests", headers={"Retry-After": "1"})
            if fault.kind == "latency":
                delay_before = fault.seconds
            if fault.kind == "drop" and not fault.after:
                return Response(0, b"", drop=True)
        fields, files = parse_body(headers, body)
        ctx = Ctx(self, account, route, params, query, fields, files, base, sub, token or "")
        response = self._run(ctx)
        response.delay_before = delay_before
        if fault is not None and fault.kind == "timeout":
            response.delay_after = fault.seconds
            response.drop = fault.then_drop
        if fault is not None and fault.kind == "drop":
            response.drop = True
        return response

    def _run(self, ctx: Ctx) -> Response:
        route = ctx.route
        shape = SHAPES[route.name]
        data = ctx.query if route.method in ("GET", "DELETE") else {**ctx.body, **ctx.files}
        errors = (
            validate_request(route.name, data, now=self.clock.naive(), notation=route.numbers)
            if shape.request or shape.one_of
            else {}
        )
        if errors:
            raise invalid(errors)
        handler = self.handlers[route.name]
        with ctx.account.lock:
            ctx.account.requests[route.name] = ctx.account.requests.get(route.name, 0) + 1
            if route.method != "GET":
                ctx.account.last_bodies[route.name] = ctx.body
            out = handler(ctx)
            body = self._envelope(ctx, out)
        return self._json(out.http, body)

    # --------------------------------------------------------------- GET budget
    def _spend_get(self, account: Account) -> None:
        now = self.clock.now()
        with account.lock:
            window = account.gets
            while window and window[0] <= now - 60.0:
                window.popleft()
            if len(window) >= self.config.get_limit:
                retry = max(1, math.ceil(window[0] + 60.0 - now))
                raise ApiError(429, "Too Many Requests", headers={"Retry-After": str(retry)})
            window.append(now)

    # --------------------------------------------------------------- faults
    def _pick_fault(self, route_name: str) -> FaultRule | None:
        rules = self.config.faults
        if not rules:
            return None
        with self._lock:
            for rule in rules:
                if rule.routes and not any(fnmatch.fnmatchcase(route_name, p) for p in rule.routes):
                    continue
                used = self._fault_counts.get(id(rule), 0)
                if rule.count is not None and used >= rule.count:
                    continue
                if rule.rate < 1.0 and self.fault_rng.random() >= rule.rate:
                    continue
                self._fault_counts[id(rule)] = used + 1
                return rule
        return None

    # --------------------------------------------------------------- envelopes
    def _envelope(self, ctx: Ctx, out: Out) -> dict:
        if out.raw is not None:
            return out.raw
        shape = SHAPES[ctx.route.name]
        message = out.message if out.message is not None else shape.message
        data = out.data
        if data is None:
            data = {"empty": [], "int": 1, "list": [], "object": {}}.get(shape.data, [])
        paginate = out.paginate if out.paginate is not None else shape.envelope == "list"
        if shape.envelope == "bare":
            body = {"message": message, "status": "OK"}
        elif shape.envelope == "flat":
            body = {"data": data, "message": message, "status": shape.status}
        else:
            body = {"code": 200, "data": data, "message": message, "status": shape.status}
        if paginate and isinstance(data, list):
            page, links, meta = self.paginate(ctx, data, out.per_page)
            body["data"] = page
            body["links"] = links
            body["meta"] = meta
        if out.extra:
            body.update(out.extra)
        return dict(sorted(body.items())) if shape.envelope != "flat" else body

    def paginate(self, ctx: Ctx, items: list, fixed: int | None = None) -> tuple[list, dict, dict]:
        try:
            page = max(1, int(ctx.query.get("page", 1)))
        except ValueError:
            raise invalid({"page": ["The page must be an integer."]}) from None
        if fixed:
            per_page = fixed
        else:
            try:
                per_page = int(ctx.query.get("per_page", self.config.page_size))
            except ValueError:
                raise invalid({"per_page": ["The per page must be an integer."]}) from None
            if per_page < 1 or per_page > self.config.max_page_size:
                raise invalid(
                    {"per_page": [f"The per page must be between 1 and {self.config.max_page_size}."]}
                )
        total = len(items)
        last = max(1, math.ceil(total / per_page))
        start = (page - 1) * per_page
        chunk = items[start : start + per_page]
        url = ctx.base + ctx.path
        keep = {k: v for k, v in ctx.query.items() if k not in ("page", "access_token")}

        def link(n: int | None) -> str | None:
            if n is None:
                return None
            return url + "?" + urlencode({**keep, "page": n})

        links = {
            "first": link(1),
            "last": link(last),
            "prev": link(page - 1) if page > 1 else None,
            "next": link(page + 1) if page < last else None,
        }
        meta = {
            "current_page": page,
            "from": start + 1 if chunk else None,
            "last_page": last,
            "path": url,
            "per_page": per_page,
            "to": start + len(chunk) if chunk else None,
            "total": total,
        }
        return chunk, links, meta

    # --------------------------------------------------------------- helpers
    @staticmethod
    def _json(status: int, body: Any, headers: list[tuple[str, str]] | None = None) -> Response:
        return Response(status, dumps(body), [("Content-Type", JSON), *(headers or [])])

    # --------------------------------------------------------------- inspection
    def inspect(self, method: str, sub: str, qs: str, raw: bytes) -> Any:

        query = dict(parse_qsl(qs, keep_blank_values=True)) if qs else {}
        body = json.loads(raw) if raw.strip() else {}
        return inspect.handle(self, method, sub.strip("/"), query, body)
