"""Which function processes which event type.

The receiver knows no product: each app registers its processors in its ``AppConfig.ready()``
(``register("sms:message:status", fn)``), the way django-anymail lets apps connect to its
tracking signals. A processor takes a stored ``WebhookEvent`` and returns a small dict for
its ``result``; it runs inside the transaction that marks the event processed, so an event
is applied once. An event type nobody registered is stored and marked ignored.

A set processor (``register_set``) takes a list of stored events of one type and returns
one result per event, in order, a dict or its JSON text (encoded by the processor, which
knows its shape, at a fraction of ``json.dumps``'s cost per call): the drain
(``messaging.webhooks.ingest``) hands it hundreds at a time. An event type with no set processor is applied one event at a time.
"""

from __future__ import annotations

from collections.abc import Callable

Processor = Callable[..., dict]

PROCESSORS: dict[str, Processor] = {}
SET_PROCESSORS: dict[str, Callable[[list], list[dict | str]]] = {}


def register(event_types: str | tuple[str, ...] | list[str], processor: Processor) -> None:
    for event_type in (event_types,) if isinstance(event_types, str) else event_types:
        known = PROCESSORS.get(event_type)
        if known is not None and known is not processor:
            raise ValueError(f"{event_type} already has a processor: {known.__module__}.{known.__name__}")
        PROCESSORS[event_type] = processor


def processor_for(event_type: str) -> Processor | None:
    return PROCESSORS.get(event_type)


def register_set(event_types: str | tuple[str, ...] | list[str], processor: Callable[[list], list[dict | str]]) -> None:
    for event_type in (event_types,) if isinstance(event_types, str) else event_types:
        known = SET_PROCESSORS.get(event_type)
        if known is not None and known is not processor:
            raise ValueError(f"{event_type} already has a set processor: {known.__module__}.{known.__name__}")
        SET_PROCESSORS[event_type] = processor


def set_processor_for(event_type: str) -> Callable[[list], list[dict | str]] | None:
    return SET_PROCESSORS.get(event_type)
