"""The generic BICS sync service: one push and one pull for every synced model.

Every model that mirrors a BICS resource inherits ``core.models.SyncedModel`` (``bics_id``,
``sync_state``, ``synced_at``, ``sync_error``) and registers a small **adapter** here. Nothing
per model is copied: the walk over pages, the upsert by ``bics_id``, the conflict and failure
rules and the result counting live in this module only.

Writing an adapter (contacts, voice... do the same as ``messaging/sync_adapters.py``)::

    from core.sync import SyncAdapter, register

    class TagAdapter(SyncAdapter):
        resource = "tags"                    # the key of `manage.py bics_sync tags`
        model = Tag                          # a SyncedModel subclass
        routes = {"list": "contacts.tags.list", "create": "contacts.tags.create",
                  "update": "contacts.tags.update", "delete": "contacts.tags.delete"}

        def to_payload(self, obj, *, action):     # our record -> request body ("create"/"update")
            return {"name": obj.name}

        def from_payload(self, data):             # one BICS item -> {model field: value}
            return {"name": data["name"]}

    register(TagAdapter())                   # in your AppConfig.ready()

Optional hooks (see ``SyncAdapter``): ``queryset()`` narrows the records of this adapter
(e.g. one channel of a shared model), ``list_params()`` adds filters to the list call,
``path_params(obj)`` names the ``{id}`` of item routes, ``find_unlinked(values)`` links a
pulled item to a local record that was never pushed (no duplicates), ``can_push(obj)``
returns a reason to skip a record, ``after_pull(obj, changed)`` reacts to a pulled create or
change, ``after_push(obj, data, action=...)`` follows an accepted create/update,
``push_many(queryset, result)`` replaces the record-by-record push (bulk imports),
``replace_on_update`` says that the API has no edit (WhatsApp templates: delete + create).
Several adapters may share one resource name (templates for SMS, WhatsApp and Viber).

Rules (DESIGN.md "Sync rules"):

* **push** creates records without ``bics_id``, updates records that are ``dirty``,
  ``failed`` or ``never`` synced, and leaves ``synced`` ones alone (``unchanged``);
  ``push_delete(obj)`` deletes at BICS first and locally only when BICS agreed. A 404 on a
  delete means "already gone" (an earlier delete whose answer was lost): a delete + create
  edit goes on to create; a complete pull forgets a failed record's id that BICS no longer lists.
* **pull** walks every page, upserts by ``bics_id``; it never deletes a local record (an
  opt-out must never vanish because a list came back short) and never overwrites a record
  that is ``dirty`` (changed here, not pushed) or whose push ``failed``: that is reported as
  a **conflict**.
* ``skip_push`` marks records that stay local by design (``skipped``, not a failure, so
  ``bics_sync`` still exits 0); ``can_push`` refusals are failures.
* A create whose answer was lost (``BicsOutcomeUnknown``) is reconciled at once: the list is
  walked and an item that ``find_unlinked`` says is this record is linked, never created twice.
* A BICS refusal never loses local data: the record keeps its fields, gets
  ``sync_state=failed`` and ``sync_error``, and is listed in ``failed`` with the reason.
* Records written by a pull are saved through ``QuerySet.update`` or with ``_from_sync``
  set, so signals and admin code do not mark them dirty again.

The result is a ``SyncResult`` (created, updated, deleted, unchanged, conflicts, failed,
each failure and conflict as ``(record, reason)``), turned into a dict for Celery and the
admin message by ``as_dict()``.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from core.bics import get_client
from core.models import SyncState
from core.sync_registry import (  # re-exported: the registry is part of this module's API
    SyncAdapter,
    SyncResult,
    adapter_for_record,
    adapters_for,
    adapters_for_model,
    label,
    register,
    registry,
    resources,
)

log = logging.getLogger(__name__)

__all__ = [
    "SyncAdapter",
    "SyncResult",
    "acting_as",
    "acting_user",
    "adapter_for_record",
    "adapters_for",
    "adapters_for_model",
    "bics_iterate",
    "bics_request",
    "label",
    "pull",
    "push",
    "push_delete",
    "register",
    "registry",
    "resources",
]


# --------------------------------------------------------------------------- who asked
_acting_user = contextvars.ContextVar("sync_acting_user", default=None)


def acting_user():
    """The user whose push or pull is running (None: beat or a command), for adapters that
    record who brought a change (e.g. the template approval trail)."""
    return _acting_user.get()


@contextlib.contextmanager
def acting_as(user):
    token = _acting_user.set(user)
    try:
        yield
    finally:
        _acting_user.reset(token)


# --------------------------------------------------------------------------- BICS access
def bics_request(route: str, *, path: dict | None = None, json: dict | None = None,
                 params: dict | None = None) -> Any:
    """One call through the shared client; returns the response ``data``."""
    return get_client().call(route, path_params=path or None, json=json, params=params).data


def bics_iterate(route: str, *, params: dict | None = None) -> Iterator[dict]:
    """Every item of a list route, walking all pages (the client follows links/meta)."""
    yield from get_client().iterate(route, params=params)


def _reason(exc: Exception) -> str:
    return str(exc) or type(exc).__name__




def _mark_failed(obj, reason: str) -> None:
    type(obj)._default_manager.filter(pk=obj.pk).update(sync_state=SyncState.FAILED, sync_error=reason)
    obj.sync_state, obj.sync_error = SyncState.FAILED, reason


def _mark_synced(obj, extra_fields: Iterable[str] = ()) -> None:
    obj.sync_state, obj.sync_error, obj.synced_at = SyncState.SYNCED, "", timezone.now()
    obj._from_sync = True
    obj.save(update_fields=["bics_id", "sync_state", "sync_error", "synced_at", *extra_fields])


def _outcome_unknown(exc: Exception) -> bool:
    from bics.errors import BicsOutcomeUnknown

    return isinstance(exc, BicsOutcomeUnknown)


def _reconcile_create(adapter: SyncAdapter, obj) -> str | None:
    """After a create whose answer was lost: the BICS id of the item that is ``obj`` (matched
    by the adapter's ``find_unlinked``), or None. Never creates twice blindly."""
    if "list" not in adapter.routes:
        return None
    try:
        for data in bics_iterate(adapter.routes["list"], params=adapter.list_params()):
            bics_id = adapter.bics_id_of(data)
            if not bics_id or adapter.queryset().filter(bics_id=bics_id).exists():
                continue
            match = adapter.find_unlinked(adapter.from_payload(data))
            if match is not None and match.pk == obj.pk:
                return bics_id
    except Exception as exc:
        log.warning("sync reconcile %s %s failed: %s", adapter.resource, obj.pk, exc)
    return None


def _delete_gone_ok(adapter: SyncAdapter, obj) -> None:
    """Delete ``obj`` at BICS; a 404 means it is already gone (e.g. an earlier delete whose
    answer was lost), which is what a delete wants."""
    from bics.errors import BicsNotFound

    try:
        bics_request(adapter.routes["delete"], path=adapter.path_params(obj))
    except BicsNotFound:
        log.info("sync delete %s %s: already gone at BICS", adapter.resource, obj.pk)


def push_one(adapter: SyncAdapter, obj, result: SyncResult) -> None:
    skip = adapter.skip_push(obj)
    if skip:
        result.skipped.append((obj, skip))
        return
    reason = adapter.can_push(obj)
    if reason:
        _mark_failed(obj, reason)
        result.failed.append((obj, reason))
        return
    if obj.bics_id and obj.sync_state == SyncState.SYNCED:
        result.unchanged.append(obj)
        return
    action = "update" if obj.bics_id else "create"
    counted = result.updated if action == "update" else result.created
    try:
        if action == "update" and (adapter.replace_on_update or "update" not in adapter.routes):
            # No edit in the API: delete the old one, create it again.
            _delete_gone_ok(adapter, obj)
            type(obj)._default_manager.filter(pk=obj.pk).update(bics_id=None)  # gone: never delete it twice
            obj.bics_id = None
            action = "create"
        if action == "create":
            data = bics_request(adapter.routes["create"], json=adapter.to_payload(obj, action="create"))
            new_id = adapter.bics_id_of(data) if isinstance(data, dict) else None
            if not new_id:
                raise ValueError(f"BICS created the record but returned no {adapter.id_field!r}")
            obj.bics_id = new_id
        else:
            data = bics_request(adapter.routes["update"], path=adapter.path_params(obj),
                                json=adapter.to_payload(obj, action="update"))
    except Exception as exc:  # any refusal: keep local data, record the reason
        log.warning("sync push %s %s failed: %s", adapter.resource, obj.pk, exc)
        if action == "create" and _outcome_unknown(exc):
            found = _reconcile_create(adapter, obj)
            if found:  # it did reach BICS: link it instead of creating it twice later
                obj.bics_id = found
                _mark_synced(obj)
                counted.append(obj)
                return
        if action == "create" and obj.bics_id is None:
            type(obj)._default_manager.filter(pk=obj.pk).update(bics_id=None)
        _mark_failed(obj, _reason(exc))
        result.failed.append((obj, _reason(exc)))
        return
    server = adapter.from_payload_server_fields(data) if isinstance(data, dict) else {}
    for name, value in server.items():
        setattr(obj, name, value)
    try:
        adapter.after_push(obj, data, action=action)
    except Exception as exc:
        _mark_failed(obj, _reason(exc))
        type(obj)._default_manager.filter(pk=obj.pk).update(bics_id=obj.bics_id)
        result.failed.append((obj, _reason(exc)))
        return
    _mark_synced(obj, server.keys())
    counted.append(obj)


def push(resource: str, queryset: models.QuerySet | None = None) -> SyncResult:
    """Push every record of ``resource`` (or only those in ``queryset``)."""
    result = SyncResult(resource=resource, direction="push")
    for adapter in adapters_for(resource):
        records = adapter.queryset() if queryset is None else adapter.selected(queryset)
        if records is None:
            continue
        if adapter.push_many is not None:
            adapter.push_many(records, result)
            continue
        for obj in records.order_by("pk").iterator(chunk_size=500):
            push_one(adapter, obj, result)
    return result


def push_delete(obj, *, adapter: SyncAdapter | None = None, result: SyncResult | None = None) -> SyncResult:
    """Delete at BICS first, then locally. A refusal keeps the record (failed + reason)."""
    adapter = adapter or adapter_for_record(obj)
    result = result or SyncResult(resource=adapter.resource, direction="push")
    if obj.bics_id:
        try:
            _delete_gone_ok(adapter, obj)
        except Exception as exc:
            _mark_failed(obj, _reason(exc))
            result.failed.append((obj, _reason(exc)))
            return result
    name = label(obj)
    obj.delete()
    result.deleted.append(name)
    return result


# --------------------------------------------------------------------------- pull
def _differs(obj, values: dict) -> list[str]:
    changed = []
    for name, value in values.items():
        if isinstance(value, models.Model):
            current, value = getattr(obj, f"{name}_id", None), value.pk
        else:
            current = getattr(obj, name)
        if current != value:
            changed.append(name)
    return changed


def pull_item(adapter: SyncAdapter, data: dict, result: SyncResult, seen: set) -> None:
    bics_id = adapter.bics_id_of(data)
    if not bics_id:
        result.failed.append((None, f"item without {adapter.id_field!r}: {data!r}"[:300]))
        return
    seen.add(bics_id)
    try:
        values = adapter.from_payload(data)
    except Exception as exc:
        result.failed.append((f"{adapter.resource} {bics_id}", f"unreadable item: {_reason(exc)}"))
        return
    obj = adapter.queryset().filter(bics_id=bics_id).first() or adapter.find_unlinked(values)
    now = timezone.now()
    if obj is None:
        obj = adapter.model(**values, bics_id=bics_id, sync_state=SyncState.SYNCED, synced_at=now)
        obj._from_sync = True
        obj._pulled_new = True
        obj._bics_item = data
        try:
            with transaction.atomic():
                obj.save()
                adapter.after_pull(obj, list(values))
        except Exception as exc:
            result.failed.append((f"{adapter.resource} {bics_id}", _reason(exc)))
            return
        result.created.append(obj)
        return
    if obj.sync_state in (SyncState.DIRTY, SyncState.FAILED) and obj.bics_id:
        # Edited here and not (successfully) pushed: BICS's version must not overwrite it.
        result.conflicts.append(
            (obj, "changed here and not pushed; BICS has its own version (push or discard first)")
        )
        return
    changed = _differs(obj, values)
    if not changed and obj.bics_id == bics_id and obj.sync_state == SyncState.SYNCED:
        type(obj)._default_manager.filter(pk=obj.pk).update(synced_at=now)
        result.unchanged.append(obj)
        return
    for name, value in values.items():
        setattr(obj, name, value)
    obj.bics_id, obj.sync_state, obj.sync_error, obj.synced_at = bics_id, SyncState.SYNCED, "", now
    obj._from_sync = True
    obj._bics_item = data
    try:
        with transaction.atomic():
            obj.save()
            adapter.after_pull(obj, changed)
    except Exception as exc:
        result.failed.append((obj, _reason(exc)))
        return
    result.updated.append(obj)


def _forget_gone(adapter: SyncAdapter, seen: set[str]) -> None:
    """After a complete walk of a delete + create resource: a record whose push failed with an
    id BICS no longer lists was deleted there (its re-create never happened). Forget the dead
    id so the next push creates it instead of failing on it for good."""
    adapter.queryset().filter(sync_state=SyncState.FAILED, bics_id__isnull=False).exclude(
        bics_id__in=seen).update(bics_id=None, sync_error="gone at BICS; the next push creates it again")


def pull(resource: str) -> SyncResult:
    """Pull every page of ``resource`` from BICS and upsert locally by ``bics_id``."""
    result = SyncResult(resource=resource, direction="pull")
    for adapter in adapters_for(resource):
        if "list" not in adapter.routes:
            continue
        seen: set[str] = set()
        try:
            for data in bics_iterate(adapter.routes["list"], params=adapter.list_params()):
                pull_item(adapter, data, result, seen)
        except Exception as exc:
            log.warning("sync pull %s failed: %s", adapter.resource, exc)
            result.failed.append((f"{adapter.resource} list ({adapter.routes['list']})", _reason(exc)))
        else:
            if adapter.replace_on_update:
                _forget_gone(adapter, seen)
    return result


def run(resource: str, direction: str) -> SyncResult:
    """``resource`` may be "all": every registered resource, in registration order."""
    if direction not in ("push", "pull"):
        raise ValueError("direction is push or pull")
    names = resources() if resource == "all" else [resource]
    total = SyncResult(resource=resource, direction=direction)
    for name in names:
        total.merge(push(name) if direction == "push" else pull(name))
    return total
