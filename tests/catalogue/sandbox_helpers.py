"""The one place where messaging tests talk to the sandbox's inspection endpoints."""

import requests


def root(sandbox) -> str:
    return sandbox.url.split("/api/v2/")[0]


def advance_clock(sandbox, seconds: int = 3600) -> None:
    """Let the sandbox's approval delay pass (senders and templates get decided)."""
    requests.post(f"{root(sandbox)}/_sandbox/tick", json={"seconds": seconds}, timeout=5).raise_for_status()


def refuse(sandbox, route: str, status: int = 422) -> None:
    """Make every call of ``route`` answer ``status`` without processing it."""
    requests.post(f"{root(sandbox)}/_sandbox/config",
                  json={"faults": [{"kind": "error", "status": status, "routes": [route]}]},
                  timeout=5).raise_for_status()


def drop_answer(sandbox, route: str) -> None:
    """Process the next call of ``route`` but close the socket without answering."""
    requests.post(f"{root(sandbox)}/_sandbox/config",
                  json={"faults": [{"kind": "drop", "routes": [route], "count": 1, "after": True}]},
                  timeout=5).raise_for_status()
