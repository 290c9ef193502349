"""What the voice tests read from the sandbox's inspection endpoints (never through the client)."""

from collections import Counter

import requests

from tests.conftest import SANDBOX_TOKEN


def root(sandbox) -> str:
    return sandbox.url.split("/api/v2/")[0]


def _requests(sandbox) -> dict:
    resp = requests.get(f"{root(sandbox)}/_sandbox/requests", params={"token": SANDBOX_TOKEN}, timeout=5)
    resp.raise_for_status()
    return resp.json()


def sent(sandbox, route) -> list[dict]:
    """The bodies (or query) of ``route``: the sandbox keeps the last one and the count, so a
    list of that many entries whose last is the last body (tests unpack one)."""
    data = _requests(sandbox)
    count = data["counts"].get(route, 0)
    return [data["last"].get(route)] * count


def calls_to(sandbox) -> Counter:
    resp = requests.get(f"{root(sandbox)}/_sandbox/sent", params={"token": SANDBOX_TOKEN}, timeout=5)
    resp.raise_for_status()
    return Counter(item["number"].lstrip("+") for item in resp.json()["items"]
                   if item["route"].startswith("voice."))


def fault(sandbox, **rule) -> None:
    resp = requests.post(f"{root(sandbox)}/_sandbox/config", json={"faults": [rule]}, timeout=5)
    resp.raise_for_status()


def tick(sandbox, seconds=60) -> None:
    requests.post(f"{root(sandbox)}/_sandbox/tick", json={"seconds": seconds}, timeout=5).raise_for_status()


def answered(sandbox, *numbers) -> None:
    """Calls to ``numbers`` (digits, as the sandbox stores them) end ANSWER."""
    resp = requests.post(f"{root(sandbox)}/_sandbox/config",
                         json={"dlr_rules": {n.lstrip("+"): "DELIVRD" for n in numbers}}, timeout=5)
    resp.raise_for_status()
