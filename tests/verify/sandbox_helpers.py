"""What the tests read from the sandbox's inspection endpoint (never through the client)."""

import requests


def _root(sandbox) -> str:
    return sandbox.url.split("/api/v2/")[0]


def _get(sandbox, bics_id):
    response = requests.get(f"{_root(sandbox)}/_sandbox/otp/{bics_id}", timeout=5)
    response.raise_for_status()
    return response.json()


def code_for(sandbox, bics_id) -> str:
    return _get(sandbox, bics_id)["code"]


def delivered_channel(sandbox, bics_id) -> str:
    return _get(sandbox, bics_id)["channel"]


def _requests(sandbox) -> dict:
    response = requests.get(f"{_root(sandbox)}/_sandbox/requests", timeout=5)
    response.raise_for_status()
    return response.json()


def last_send(sandbox) -> dict:
    return _requests(sandbox)["last"]["verify.otp.send"]


def send_count(sandbox) -> int:
    return _requests(sandbox)["counts"].get("verify.otp.send", 0)


def expire(sandbox, bics_id) -> None:
    requests.post(f"{_root(sandbox)}/_sandbox/expire/{bics_id}", timeout=5).raise_for_status()


def fail_channel(sandbox, channel) -> None:
    requests.post(f"{_root(sandbox)}/_sandbox/fail/{channel}", timeout=5).raise_for_status()


def fault(sandbox, **rule) -> None:
    """One fault rule for the sandbox (see bics/sandbox/config.py FaultRule)."""
    response = requests.post(f"{_root(sandbox)}/_sandbox/config", json={"faults": [rule]}, timeout=5)
    response.raise_for_status()
