"""The sync registry: ``SyncAdapter`` (what a synced model says about its BICS resource),
``SyncResult`` (the counts a push or pull reports) and the registry of adapters by resource.
The push and pull themselves are ``core.sync``; ``from core.sync import SyncAdapter,
register`` keeps working."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from django.db import models


@dataclass
class SyncResult:
    resource: str = ""
    direction: str = ""
    created: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    deleted: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    conflicts: list = field(default_factory=list)  # [(record, reason)]
    failed: list = field(default_factory=list)  # [(record or None, reason)]
    skipped: list = field(default_factory=list)  # [(record, reason)]: kept here on purpose

    COUNTED: ClassVar = ("created", "updated", "deleted", "unchanged", "skipped", "conflicts", "failed")

    @property
    def ok(self) -> bool:
        return not self.failed

    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in self.COUNTED}

    def merge(self, other: SyncResult) -> SyncResult:
        for name in self.COUNTED:
            getattr(self, name).extend(getattr(other, name))
        return self

    def summary(self) -> str:
        counts = ", ".join(f"{n} {name}" for name, n in self.counts().items())
        text = f"{self.direction.capitalize()} {self.resource}: {counts}."
        problems = [f"{label(r)}: {reason}" for r, reason in self.failed + self.conflicts + self.skipped]
        if problems:
            shown = problems[:10]
            more = f" (+{len(problems) - 10} more)" if len(problems) > 10 else ""
            text += " " + "; ".join(shown) + more
        return text

    def as_dict(self) -> dict:
        return {
            "resource": self.resource,
            "direction": self.direction,
            "counts": self.counts(),
            "failed": [[label(r), reason] for r, reason in self.failed],
            "conflicts": [[label(r), reason] for r, reason in self.conflicts],
            "summary": self.summary(),
        }


def label(record) -> str:
    if record is None:
        return "(list)"
    if isinstance(record, models.Model):
        return f"{record._meta.verbose_name} #{record.pk} {record}"
    return str(record)


# --------------------------------------------------------------------------- adapters
class SyncAdapter:
    """How one model (or one slice of it) maps to one BICS resource. Subclass and register."""

    resource: str = ""
    model: type[models.Model] | None = None
    # route names from bics/routes.py: "list", "create", "update", "delete" (any may be absent)
    routes: ClassVar[dict[str, str]] = {}
    id_field: str = "id"  # the key of BICS's id in an item
    replace_on_update: bool = False  # no edit in the API: delete + create

    # -- required
    def to_payload(self, obj, *, action: str) -> dict:
        raise NotImplementedError

    def from_payload(self, data: dict) -> dict:
        raise NotImplementedError

    # -- optional hooks
    def queryset(self) -> models.QuerySet:
        return self.model._default_manager.all()

    def list_params(self) -> dict | None:
        return None

    def selected(self, selection: models.QuerySet) -> models.QuerySet | None:
        """This adapter's records in an admin selection, None when it holds none (a selection
        of another model: an adapter of nested records may take its parents' selection)."""
        if selection.model is not self.model:
            return None
        return self.queryset().filter(pk__in=selection.values("pk"))

    def path_params(self, obj) -> dict:
        return {"id": obj.bics_id}

    def bics_id_of(self, data: dict) -> str | None:
        value = data.get(self.id_field) if isinstance(data, dict) else None
        return None if value in (None, "") else str(value)

    def find_unlinked(self, values: dict):
        """A local record without bics_id that this pulled item is (avoids duplicates)."""
        return None

    def can_push(self, obj) -> str | None:
        """A reason ``obj`` cannot be pushed now (reported as failed), or None."""
        return None

    def skip_push(self, obj) -> str | None:
        """A reason ``obj`` is never pushed by design (e.g. local-only; reported as skipped,
        not a failure), or None."""
        return None

    def from_payload_server_fields(self, data: dict) -> dict:
        """The part of from_payload that BICS decides (status, timestamps...); default none."""
        return {}

    def after_pull(self, obj, changed: list[str]) -> None:
        """Called after a pull created or changed ``obj`` (inside its transaction).
        On a create ``changed`` lists every field of ``from_payload``; the raw item is on
        ``obj._bics_item`` (e.g. for many-to-many values that ``model(**values)`` cannot take)."""

    def after_push(self, obj, data, *, action: str) -> None:
        """Called after BICS accepted a create or update of ``obj`` (``data``: the response
        data), before ``obj`` is saved as synced; e.g. a second call for fields a create
        does not take."""

    # Set to a callable ``push_many(queryset, result)`` to push many records at once (a
    # documented bulk import); ``push()`` then hands it the records instead of the loop.
    push_many = None

    def __repr__(self):
        return f"<{type(self).__name__} {self.resource}>"


_registry: dict[str, list[SyncAdapter]] = {}


def register(adapter: SyncAdapter) -> SyncAdapter:
    """Register an adapter under its resource name (idempotent per adapter class)."""
    if not adapter.resource or adapter.model is None:
        raise ValueError(f"{adapter!r} needs a resource and a model")
    items = _registry.setdefault(adapter.resource, [])
    items[:] = [a for a in items if type(a) is not type(adapter)] + [adapter]
    return adapter


def registry() -> dict[str, list[SyncAdapter]]:
    return _registry


def resources() -> list[str]:
    return list(_registry)


def adapters_for(resource: str) -> list[SyncAdapter]:
    if resource not in _registry:
        raise KeyError(f"unknown sync resource {resource!r}; known: {', '.join(_registry)}")
    return _registry[resource]


def adapter_for_record(obj) -> SyncAdapter:
    """The adapter whose queryset holds ``obj`` (several may share a model)."""
    for items in _registry.values():
        for adapter in items:
            if adapter.model is type(obj) and adapter.queryset().filter(pk=obj.pk).exists():
                return adapter
    raise KeyError(f"no sync adapter for {obj!r}")


def adapters_for_model(model) -> list[SyncAdapter]:
    return [a for items in _registry.values() for a in items if a.model is model]


# --------------------------------------------------------------------------- push
