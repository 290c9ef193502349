"""The one place where messaging tests talk to the sandbox's inspection endpoints."""

import requests


def root(sandbox) -> str:
    return sandbox.url.split("/api/v2/")[0]


def advance_clock(sandbox, seconds: int = 3600) -> None:
    """Let the sandbox's approval delay pass (senders and templates become approved)."""
    requests.post(f"{root(sandbox)}/_sandbox/clock/advance", json={"seconds": seconds}, timeout=5).raise_for_status()
