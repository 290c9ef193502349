"""The receiver's lean path: a BICS callback stored without Django's middleware stack.

``LeanReceiver`` wraps the project's WSGI application (``config/wsgi.py``). A POST to
``/webhooks/bics/<slug>/`` with a JSON body and no query string is served here with what the
view does when it accepts a callback: find the webhook (the view's cache), check the
credentials (``base.check_credentials``: the Bearer, the Signature, constant-time), store the
event (``services.webhook_event_receive``: one INSERT, on SQLite into the process's inbox file;
the unique dedupe key keeps a retry once),
nudge the drain, answer 200 with the view's body. The middleware does nothing for this URL
(no session, user, CSRF or static file); the host check and the HTTPS redirect it would
apply are applied here by falling through.

Everything else goes to Django unchanged, the body handed on as read: other URLs and
methods, a query string (the handshake's ``?token=``, ``?event=``), form bodies, a handshake
body, an unknown or refused webhook, an unreadable body, a disallowed host, plain HTTP when
HTTPS is required, and any error here. Refusals are thus answered and logged by the view
itself, with its status codes and log lines.

Database connections are reused and closed as Django's handler does it: its
``request_started`` and ``request_finished`` receivers that matter here are
``close_old_connections`` (``CONN_MAX_AGE``, ``CONN_HEALTH_CHECKS``, a connection left in
error), called before and after; the others (the DEBUG query log, closing caches) have
nothing to do on this path, and sending both signals cost 45 µs a request, a tenth of it.

The throughput of this path is its CPU time per answer (two cores serve the whole
back-office), so it builds no ``HttpRequest``: the host and HTTPS checks are Django's
(``validate_host``, ``SECURE_PROXY_SSL_HEADER``) applied to the environ, the body is read
and decoded once, and the decoded body is stored as the event's ``raw`` as received.
"""

from __future__ import annotations

import functools
import io
import json
import logging

from django.conf import settings
from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS, connections
from django.dispatch import receiver
from django.http.request import split_domain_port, validate_host
from django.urls import get_script_prefix, reverse

from messaging.webhooks import parsing
from messaging.webhooks.base import OK_BODY, WebhookAuthError, check_credentials, find_webhook

log = logging.getLogger("messaging.webhooks")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(OK_BODY))),
           ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY")]


def receiver_prefix() -> str:
    """``/webhooks/bics/`` as the URLconf mounts the receiver (PATH_INFO, no script prefix)."""
    url = reverse("webhooks:receive", kwargs={"key": "KEY"}, urlconf=settings.ROOT_URLCONF)
    return "/" + url[len(get_script_prefix()):].removesuffix("KEY/")


class LeanReceiver:
    """WSGI middleware: the lean path for JSON callbacks, Django (``app``) for the rest."""

    def __init__(self, app):
        self.app = app
        self._prefix: str | None = None

    def key_of(self, environ) -> str | None:
        """The webhook slug when this request is one the lean path may serve."""
        if environ.get("REQUEST_METHOD") != "POST" or environ.get("QUERY_STRING"):
            return None
        if self._prefix is None:
            self._prefix = receiver_prefix()
        path = environ.get("PATH_INFO", "")
        if not path.startswith(self._prefix) or not path.endswith("/"):
            return None
        key = path[len(self._prefix):-1]
        content_type = environ.get("CONTENT_TYPE", "").partition(";")[0].strip()
        return key if key and "/" not in key and content_type not in FORM_TYPES else None

    def __call__(self, environ, start_response):
        key = self.key_of(environ)
        if key is None:
            return self.app(environ, start_response)
        body = read_body(environ)
        if body is None:  # nothing read: Django answers it
            return self.app(environ, start_response)
        environ["wsgi.input"] = io.BytesIO(body)  # Django reads it again if it serves the request
        conn = connections[DEFAULT_DB_ALIAS]
        close_old_connections(conn)  # what request_started does for the database
        try:
            stored = self.store(environ, key, body)
        except Exception as exc:  # noqa: BLE001 - the view serves it and answers for itself
            log.warning("webhook lean path failed (%s); the view answers", type(exc).__name__)
            stored = False
        finally:
            close_old_connections(conn)  # and request_finished
        if not stored:
            return self.app(environ, start_response)
        start_response("200 OK", list(HEADERS))
        return [OK_BODY]

    def store(self, environ, key: str, body: bytes) -> bool:
        """True when the callback was authenticated and stored (or was a stored retry)."""
        from messaging.webhooks.services import webhook_event_receive

        if not host_allowed(environ) or (settings.SECURE_SSL_REDIRECT and not is_secure(environ)):
            return False
        try:
            data, raw_json = json.loads(body), body.decode()
        except (ValueError, UnicodeDecodeError):
            return False
        if not isinstance(data, dict) or parsing.is_handshake_object(None, data):
            return False
        hook = find_webhook(key)
        if hook is None:
            return False
        try:
            check_credentials(hook, body, environ.get("HTTP_AUTHORIZATION"), environ.get("HTTP_SIGNATURE"))
            event = parsing.from_mapping(data)
        except (WebhookAuthError, parsing.ParseError):
            return False
        webhook_event_receive(webhook=hook, event=event, raw_json=raw_json)
        return True


def read_body(environ) -> bytes | None:
    """The body as Django's request reads it (``CONTENT_LENGTH`` bytes); None, unread, when
    Django must answer: a length it would refuse (``DATA_UPLOAD_MAX_MEMORY_SIZE``) or none."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if length <= 0 or (limit is not None and length > limit):
        return None
    return environ["wsgi.input"].read(length)


def host_allowed(environ) -> bool:
    """``HttpRequest.get_host``'s check of the Host header against ``ALLOWED_HOSTS``, without
    building a request. False hands the request to Django, which decides (and answers 400)."""
    if settings.USE_X_FORWARDED_HOST and "HTTP_X_FORWARDED_HOST" in environ:
        host = environ["HTTP_X_FORWARDED_HOST"]
    else:  # without a Host header, Django names the server (its port is not checked)
        host = environ["HTTP_HOST"] if "HTTP_HOST" in environ else environ.get("SERVER_NAME", "")
    return _host_allowed(host)


@functools.lru_cache(maxsize=64)  # BICS sends one Host: decided once (bounded: a client chooses the header)
def _host_allowed(host: str) -> bool:
    domain, _port = split_domain_port(host)
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]  # what get_host allows in DEBUG
    return bool(domain) and validate_host(domain, allowed)


@receiver(setting_changed)
def _forget_hosts(*, setting, **kwargs) -> None:
    if setting in ("ALLOWED_HOSTS", "DEBUG"):
        _host_allowed.cache_clear()


def is_secure(environ) -> bool:
    """``HttpRequest.is_secure`` on the environ (``SECURE_PROXY_SSL_HEADER``, else the scheme)."""
    if settings.SECURE_PROXY_SSL_HEADER:
        header, secure_value = settings.SECURE_PROXY_SSL_HEADER
        value = environ.get(header)
        if value is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return environ.get("wsgi.url_scheme") == "https"


def close_old_connections(conn) -> None:
    """Django's ``close_old_connections`` for the one database this path uses."""
    conn.close_if_unusable_or_obsolete()


def lean_application(app):
    """``config/wsgi.py``: the project's WSGI application with the receiver's lean path."""
    return LeanReceiver(app)

