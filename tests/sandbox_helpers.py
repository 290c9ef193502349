"""The one place where tests talk to the sandbox's inspection and control endpoints
(``/_sandbox/``, see bics/sandbox/README.md), never through the product's client.

Every function takes the running sandbox (the ``bics_sandbox`` fixture: reset before each
test, so reading every account reads this test's). Numbers come back as the sandbox stores
them: digits, no ``+``.
"""

from __future__ import annotations

from collections import Counter

import requests


def root(sandbox) -> str:
    return sandbox.url.split("/api/v2/")[0]


def inspect(sandbox, what: str = "", **params) -> dict:
    """GET /_sandbox/<what> (``sent``, ``messages``, ``requests``, ``otp/<id>``, ``config``...)."""
    response = requests.get(f"{root(sandbox)}/_sandbox/{what}", params=params, timeout=5)
    response.raise_for_status()
    return response.json()


def control(sandbox, what: str, body: dict | None = None) -> dict:
    """POST /_sandbox/<what> (``config``, ``tick``, ``reset``, ``optout``, ``expire/<id>``...)."""
    response = requests.post(f"{root(sandbox)}/_sandbox/{what}", json=body or {}, timeout=15)
    response.raise_for_status()
    return response.json()


# --------------------------------------------------------------------------- time and faults
def tick(sandbox, seconds: float = 60) -> None:
    """Advance the sandbox clock and run what became due (approvals, DLRs, call outcomes)."""
    control(sandbox, "tick", {"seconds": seconds})


def configure(sandbox, **config) -> dict:
    return control(sandbox, "config", config)


def fault(sandbox, **rule) -> None:
    """One fault rule (bics/sandbox/config.py FaultRule): kind, routes, count, status, after..."""
    configure(sandbox, faults=[rule])


def refuse(sandbox, route: str, status: int = 422, count: int | None = None) -> None:
    """Answer ``status`` to ``route`` without processing it (every call, or ``count`` calls)."""
    fault(sandbox, kind="error", status=status, routes=[route], count=count)


def drop_answer(sandbox, route: str) -> None:
    """Process the next call of ``route``, then close the socket without answering."""
    fault(sandbox, kind="drop", routes=[route], count=1, after=True)


def answered(sandbox, *numbers) -> None:
    """Calls (and messages) to ``numbers`` end ANSWER / DELIVRD."""
    configure(sandbox, dlr_rules={str(n).lstrip("+"): "DELIVRD" for n in numbers})


# --------------------------------------------------------------------------- what reached it
def request_counts(sandbox) -> dict[str, int]:
    """Requests per route name that reached their handler."""
    return inspect(sandbox, "requests")["counts"]


def last_body(sandbox, route: str):
    """The last body of ``route`` (GETs have none recorded)."""
    return inspect(sandbox, "requests")["last"].get(route)


def sent(sandbox, route: str) -> list:
    """The bodies of ``route``: the sandbox keeps the last one and the count, so a list of that
    many entries whose last is the last body (tests unpack one)."""
    data = inspect(sandbox, "requests")
    return [data["last"].get(route)] * data["counts"].get(route, 0)


def sent_items(sandbox, prefix: str = "") -> list[dict]:
    """Every recipient of every send (route, id, group_id, number, custom, at)."""
    return [i for i in inspect(sandbox, "sent")["items"] if i["route"].startswith(prefix)]


def calls_to(sandbox) -> Counter:
    """How many voice calls each number got."""
    return Counter(item["number"].lstrip("+") for item in sent_items(sandbox, "voice."))


# --------------------------------------------------------------------------- verify (OTP)
def otp(sandbox, bics_id) -> dict:
    return inspect(sandbox, f"otp/{bics_id}")


def code_for(sandbox, bics_id) -> str:
    return otp(sandbox, bics_id)["code"]


def delivered_channel(sandbox, bics_id) -> str:
    return otp(sandbox, bics_id)["channel"]


def last_send(sandbox) -> dict:
    return last_body(sandbox, "verify.otp.send")


def send_count(sandbox) -> int:
    return request_counts(sandbox).get("verify.otp.send", 0)


def expire(sandbox, bics_id) -> None:
    control(sandbox, f"expire/{bics_id}")


def fail_channel(sandbox, channel) -> None:
    control(sandbox, f"fail/{channel}")


# --------------------------------------------------------------------------- acting at BICS
def api(sandbox, route: str, *, json=None, params=None, files=None, data=None, **path) -> requests.Response:
    """Call the sandbox's BICS API by route name as someone else would (the BICS portal, an end
    user's device): data that exists at BICS before the product pulls it."""
    from bics.routes import ROUTES
    from tests.conftest import SANDBOX_TOKEN

    spec = ROUTES[route]
    return requests.request(spec.method, sandbox.url + spec.path.format(**path), json=json, params=params,
                            files=files, data=data, timeout=10,
                            headers={"Authorization": f"Bearer {SANDBOX_TOKEN}", "Accept": "application/json"})


def created(sandbox, route: str, body: dict, **path) -> dict:
    """Create a record at BICS by route name (as the BICS portal would); its ``data``."""
    response = api(sandbox, route, json=body, **path)
    response.raise_for_status()
    return response.json()["data"]


def listed(sandbox, route: str, **params) -> list[dict]:
    """Every item a list route gives, all pages walked."""
    items, page = [], 1
    while True:
        body = api(sandbox, route, params={**params, "page": page, "per_page": 1000}).json()
        items.extend(body["data"] if isinstance(body["data"], list) else [body["data"]])
        if page >= (body.get("meta") or {}).get("last_page", 1):
            return items
        page += 1
