"""Webhook callbacks (Webhooks: Retrying failed webhooks, Signature; Webhook Verification): POST
with ``Authorization: Bearer <secret>`` and ``Signature`` = HMAC-SHA256 hex of the raw body keyed
by the webhook id (or the secret, config ``webhook_key``); 3 s timeout; two more attempts after
10 s and 100 s (sandbox clock, so ``/_sandbox/tick`` moves them too); the verification handshake
on creation."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import queue
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

if TYPE_CHECKING:
    from bics.sandbox.app import SandboxApp
    from bics.sandbox.state import Account

log = logging.getLogger("bics.sandbox.webhooks")
LOOPBACK = ("localhost", "::1")
WORKERS = 4


def signature(body: bytes, key: str) -> str:
    return hmac.new(str(key).encode(), body, hashlib.sha256).hexdigest()


def is_loopback(uri: str) -> bool:
    host = (urlsplit(uri).hostname or "").lower()
    return host in LOOPBACK or host.startswith("127.")


class Deliverer:
    def __init__(self, app: SandboxApp) -> None:
        self.app = app
        self.queue: queue.Queue = queue.Queue()
        self.generation = 0
        self._threads: list[threading.Thread] = []
        self.outstanding = 0  # queued or being attempted: counted at put, so idle() has no gap
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> None:
        for n in range(WORKERS):
            t = threading.Thread(target=self._work, name=f"sandbox-webhook-{n}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        for _ in self._threads:
            self.queue.put(None)
        for t in self._threads:
            t.join(timeout=5)
        self._threads.clear()

    def clear(self) -> None:
        self.generation += 1
        try:
            while True:
                self.queue.get_nowait()
                self._done()
        except queue.Empty:
            pass

    def idle(self) -> bool:
        with self._lock:
            return self.outstanding == 0

    def _put(self, job: tuple) -> None:
        with self._lock:
            self.outstanding += 1
        self.queue.put(job)

    def _done(self) -> None:
        with self._lock:
            self.outstanding -= 1

    # ---------------------------------------------------------------- events
    def targets(self, account: Account, event: str, webhook_id: Any = None) -> list[dict]:
        hooks = account.coll("webhooks.webhooks")
        chosen: dict[str, dict] = {}
        if webhook_id not in (None, ""):
            hook = hooks.get(str(webhook_id))
            if hook is not None:
                chosen[hook["id"]] = hook
        for sub in account.coll("webhooks.subscriptions").values():
            if sub.get("event") == event:
                hook = hooks.get(str(sub.get("webhook_id")))
                if hook is not None:
                    chosen.setdefault(hook["id"], hook)
        return [h for h in chosen.values() if not h.get("_deleted") and str(h.get("status", "1")) == "1"]

    def emit(
        self, account: Account, event: str, payload: dict, *, webhook_id: Any = None, dlr: bool = False
    ) -> int:
        with account.lock:
            targets = self.targets(account, event, webhook_id)
        if not targets:
            return 0
        flat = dlr and event.startswith("sms:") and self.app.config.webhook_format == "flat"
        body = json.dumps(
            payload if flat else {"event": event, "payload": payload}, separators=(",", ":")
        ).encode()
        for hook in targets:
            self._put((self.generation, account, dict(hook), event, body, 1, None))
        return len(targets)

    def handshake(self, account: Account, hook: dict) -> None:
        """Verification call after creation: ``?token=<key>`` and
        ``{"validation_key", "challenge"}``; the answer must echo the challenge."""
        challenge = account.uuid().replace("-", "")[:12]
        body = json.dumps(
            {"validation_key": hook["token"], "challenge": challenge}, separators=(",", ":")
        ).encode()
        self._put((self.generation, account, dict(hook), "handshake", body, 1, challenge))

    # ---------------------------------------------------------------- worker
    def _work(self) -> None:
        while True:
            job = self.queue.get()
            if job is None:
                return
            try:
                self._attempt(*job)
            except Exception:  # noqa: BLE001 - never kill a worker
                log.exception("webhook delivery crashed")
            finally:
                self._done()

    def _attempt(
        self,
        generation: int,
        account: Account,
        hook: dict,
        event: str,
        body: bytes,
        attempt: int,
        challenge: str | None,
    ) -> None:
        if generation != self.generation:
            return
        cfg = self.app.config
        uri = str(hook.get("uri") or "")
        if challenge is not None:
            sep = "&" if "?" in uri else "?"
            uri = f"{uri}{sep}{urlencode({'token': hook.get('token')})}"
        headers = self._headers(hook, body, handshake=challenge is not None)
        entry = {
            "webhook_id": hook.get("id"),
            "event": event,
            "uri": uri,
            "attempt": attempt,
            "at": self.app.clock.stamp(),
            "body": body.decode(),
            "status": None,
            "ok": False,
            "error": None,
        }
        if not is_loopback(uri) and not cfg.webhook_allow_external:
            entry["error"] = "skipped: not a loopback address (webhook_allow_external)"
            self._log(account, entry)
            return
        status, answer, error = self._post(uri, body, headers, cfg.webhook_timeout)
        entry.update(status=status, error=error)
        ok = status is not None and 200 <= status < 300
        if challenge is not None:
            try:
                ok = ok and json.loads(answer or b"{}").get("challenge") == challenge
            except ValueError:
                ok = False
            with account.lock:
                stored = account.coll("webhooks.webhooks").get(hook["id"])
                if stored is not None:
                    stored["_verified"] = ok
        entry["ok"] = ok
        self._log(account, entry)
        if ok or challenge is not None:
            return
        delays = cfg.webhook_retry_delays
        if attempt <= len(delays):
            due = self.app.clock.now() + float(delays[attempt - 1])
            job = (generation, account, hook, event, body, attempt + 1, None)
            self.app.scheduler.at(due, lambda: self._put(job))

    def _headers(self, hook: dict, body: bytes, *, handshake: bool) -> dict[str, str]:
        """Bearer secret when the webhook has one; ``Signature`` as ``webhook_sign`` says."""
        cfg = self.app.config
        headers = {"Content-Type": "application/json", "Accept": "application/json",
                   "User-Agent": "bics-sandbox"}
        if hook.get("secret"):
            headers["Authorization"] = f"Bearer {hook['secret']}"
        key = hook.get("secret") if cfg.webhook_key == "secret" else hook.get("id")
        signed = cfg.webhook_sign == "all" or (cfg.webhook_sign == "events" and not handshake)
        if key and signed:
            headers["Signature"] = signature(body, str(key))
        return headers

    @staticmethod
    def _post(
        uri: str, body: bytes, headers: dict, timeout: float
    ) -> tuple[int | None, bytes | None, str | None]:
        parts = urlsplit(uri)
        cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn = cls(parts.hostname, parts.port, timeout=timeout)
        try:
            conn.request("POST", target, body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read(), None
        except (OSError, http.client.HTTPException) as exc:
            return None, None, f"{type(exc).__name__}: {exc}"
        finally:
            conn.close()

    def _log(self, account: Account, entry: dict) -> None:
        with account.lock:
            account.webhook_log.append(entry)
