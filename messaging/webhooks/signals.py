"""Signals of the webhook receiver, for apps it does not know (like django-anymail's
``inbound`` signal).

``inbound_message_received(sender=InboundMessage, inbound=<InboundMessage>)`` is sent by the
inbound processor inside the transaction that marks the event processed: a receiver's writes
are applied once, with the event; BICS calls belong in ``transaction.on_commit``.
"""

from django.dispatch import Signal

inbound_message_received = Signal()
