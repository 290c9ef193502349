"""The contract index: facts read from the BICS documentation, committed beside the code.

``index.json`` is written by ``python -m bics.contract.build`` (``make contract``) from the
documentation text; tests read only the index, so a checkout without the documentation
still checks every route against what the documentation says.
"""

from __future__ import annotations

import json
import pathlib
from functools import cache

INDEX = pathlib.Path(__file__).with_name("index.json")


@cache
def load() -> dict:
    """The committed index: ``{"source": …, "operations": {route name: facts}}``."""
    return json.loads(INDEX.read_text(encoding="utf-8"))


def operation(name: str) -> dict:
    return load()["operations"][name]
