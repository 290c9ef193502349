"""Route handlers, one module per product; ``table(routes)`` maps every route to its handler.

``base`` holds the generic collection handler and the registry; importing the product modules
registers their hooks and special handlers.
"""

from __future__ import annotations

from bics.sandbox.handlers import channels, contacts, platform, sms, verify, voice  # noqa: F401
from bics.sandbox.handlers.base import new_record, serialize, table
from bics.sandbox.handlers.messages import dlr_view

__all__ = ["dlr_view", "new_record", "serialize", "table"]
