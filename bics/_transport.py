"""The client's HTTP transport: urllib3's connection pools, called directly.

``requests`` spent about half of a send's CPU time in the sending process on work the
client does not need per request (merging session settings, cookies, hooks, re-parsing the
URL to find its pool). The client talks to one host, with its settings fixed when it is
built: the proxy and CA bundle of the environment (read once, as ``requests`` reads them),
default headers, a pool of keep-alive connections. Nothing here retries or follows a
redirect: the client decides both (see ``bics.client``). Bodies are encoded as ``requests``
encodes them (JSON without NaN, form fields, multipart uploads), so BICS sees the same
requests as before.
"""

from __future__ import annotations

import json as jsonlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import certifi
import requests.utils
import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    LocationParseError,
    NewConnectionError,
    ProtocolError,
    ProxyError,
    SSLError,
)
from urllib3.fields import RequestField
from urllib3.filepost import encode_multipart_formdata

TransportError = HTTPError  # everything ``Transport.request`` raises when no answer came


@dataclass
class Response:
    """An HTTP answer, read whole."""

    status_code: int
    content: bytes
    headers: Mapping[str, str]

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


class Transport:
    """Keep-alive connections to the host of ``base_url`` (through the proxy the environment
    names for it, if any), ``pool_size`` of them at most kept open."""

    def __init__(self, base_url: str, pool_size: int, headers: Mapping[str, str]):
        self.headers = {**requests.utils.default_headers(), **headers}
        proxy = requests.utils.select_proxy(base_url, requests.utils.get_environ_proxies(base_url, no_proxy=None))
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or certifi.where()
        tls = {"cert_reqs": "CERT_REQUIRED", ("ca_cert_dir" if os.path.isdir(bundle) else "ca_certs"): bundle}
        if proxy:
            self.manager: urllib3.PoolManager = urllib3.ProxyManager(proxy, num_pools=4, maxsize=pool_size, **tls)
        else:
            self.manager = urllib3.PoolManager(num_pools=4, maxsize=pool_size, **tls)

    def request(self, method: str, url: str, *, query: Mapping[str, Any] | None = None, json: Any = None,
                data: Mapping[str, Any] | None = None, files: Mapping[str, Any] | None = None,
                headers: Mapping[str, str] | None = None, timeout: float | tuple[float, float]) -> Response:
        """One request, answered or raising ``TransportError`` (never retried here)."""
        if query:
            url += ("&" if urlsplit(url).query else "?") + urlencode(_pairs(query))
        merged = {**self.headers, **(headers or {})}
        body = None
        if files:
            body, merged["Content-Type"] = encode_multipart_formdata(_multipart(data, files))
        elif data:
            body = urlencode(_pairs(data))
            merged["Content-Type"] = "application/x-www-form-urlencoded"
        elif json is not None:
            body = jsonlib.dumps(json, allow_nan=False).encode("utf-8")
            merged["Content-Type"] = "application/json"
        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        answer = self.manager.urlopen(method, url, body=body, headers=merged, retries=False, redirect=False,
                                      timeout=urllib3.Timeout(connect=connect, read=read), preload_content=True)
        return Response(answer.status, answer.data, answer.headers)

    def close(self) -> None:
        self.manager.clear()


def _pairs(fields: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Fields as ``requests`` encodes them: a list or tuple repeats its key, None is left out."""
    pairs = []
    for key, value in fields.items():
        for item in value if isinstance(value, list | tuple) else [value]:
            if item is not None:
                pairs.append((key, item.decode("utf-8") if isinstance(item, bytes) else str(item)))
    return pairs


def _multipart(data: Mapping[str, Any] | None, files: Mapping[str, Any]) -> list[RequestField]:
    """Form fields, then files given as ``content``, ``(name, content)``, ``(name, content,
    type)`` or ``(name, content, type, headers)`` (``requests``' ``files``)."""
    fields = [RequestField.from_tuples(key, value) for key, value in _pairs(data or {})]
    for key, value in files.items():
        name, content, kind, extra = (*value, None, None)[:4] if isinstance(value, tuple) else (key, value, None, None)
        if content is None:
            continue
        field = RequestField(name=key, data=content, filename=name, headers=extra)
        field.make_multipart(content_type=kind)
        fields.append(field)
    return fields


def was_sent(exc: TransportError) -> bool:
    """False when the request certainly never reached the server: no connection was made
    (refused, name not resolved, connect timeout, TLS handshake, the proxy unreachable: urllib3 says ``ProxyError`` only before it reached the proxy)."""
    return not isinstance(exc, ConnectTimeoutError | SSLError | LocationParseError | ProxyError)


def is_timeout(exc: TransportError) -> bool:
    return isinstance(exc, urllib3.exceptions.TimeoutError) and not isinstance(exc, NewConnectionError)


def describe(exc: TransportError) -> str:
    """A short cause without the URL (paths may carry ids or OTP codes, queries tokens)."""
    inner = exc.original_error if isinstance(exc, ProxyError) else \
        exc.args[1] if isinstance(exc, ProtocolError) and len(exc.args) > 1 else None
    names = [type(exc).__name__] + ([type(inner).__name__] if isinstance(inner, BaseException) else [])
    tail = str(inner if isinstance(inner, BaseException) else exc).rsplit(": ", 1)[-1].strip(" \"')(")
    return f"{': '.join(names)}: {tail}"[:200]
