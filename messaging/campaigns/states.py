"""The state machines of the campaigns app, as declared tables.

Each machine lists its named transitions (sources -> target); ``move`` performs one of them as
ONE conditional UPDATE (``WHERE pk = … AND state = <current> [AND guard]``), so two clicks or
two workers move a row once and a transition missing from the table cannot happen.

Campaign::

    draft ──schedule──> scheduled ──launch──> sampling ──sample_clean──> sending ──finish──> sent | failed
      └────────────launch (now)──────────────────────────────────────────────┘
    scheduled | sampling | sending ──pause──> paused ──resume──> (where it was)
    draft | scheduled | sampling | sending | paused ──cancel──> cancelled
    scheduled ──launch_refused──> failed

The cancel cut-off (``CAMPAIGN_CANCEL_CUTOFF_MINUTES``, 5 by default) guards ``cancel`` AND
``pause`` of a *scheduled* campaign: inside the window before ``scheduled_at`` (or after it,
while the beat has not launched it yet) a user can do neither, so pausing first cannot be used
to get round the cut-off. A paused campaign does not go out, so cancelling it stays allowed.
The system itself (the template hook, smart delivery) passes ``force``.

SendBatch (the states of ``core.batches.models.BatchState``)::

    pending ──claim──> claimed ──sent──> sent
    claimed ──release──> pending          claimed ──fail──> failed
    claimed ──lost──> unknown ──found──> sent ;  unknown ──not_found──> pending
    unknown ──accepted_late──> sent (BICS answered after the sweeper took the claim over)
    pending ──cancel──> cancelled
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models, transaction
from django.db.models import Q


@dataclass(frozen=True)
class Transition:
    name: str
    sources: tuple[str, ...]
    target: str


@dataclass(frozen=True)
class Machine:
    name: str
    states: tuple[str, ...]
    transitions: tuple[Transition, ...]

    def __getitem__(self, name: str) -> Transition:
        for transition in self.transitions:
            if transition.name == name:
                return transition
        raise KeyError(f"{self.name}: no transition {name!r}")

    def allows(self, source: str, target: str) -> bool:
        return any(source in t.sources and t.target == target for t in self.transitions)

    def edges(self) -> set[tuple[str, str]]:
        return {(source, t.target) for t in self.transitions for source in t.sources}


def _machine(name: str, states, rows: list[tuple[str, tuple[str, ...], str]]) -> Machine:
    machine = Machine(name, tuple(states), tuple(Transition(n, tuple(s), t) for n, s, t in rows))
    for transition in machine.transitions:  # a typo in the table fails at import
        unknown = {*transition.sources, transition.target} - set(machine.states)
        if unknown:
            raise ValueError(f"{name}.{transition.name}: unknown states {unknown}")
    return machine


C = ("draft", "scheduled", "sampling", "sending", "sent", "paused", "cancelled", "failed")
CAMPAIGN = _machine("campaign", C, [
    ("schedule", ("draft",), "scheduled"),
    ("launch_sampling", ("draft", "scheduled"), "sampling"),
    ("launch_sending", ("draft", "scheduled"), "sending"),
    ("sample_clean", ("sampling",), "sending"),
    ("pause", ("scheduled", "sampling", "sending"), "paused"),
    ("resume_scheduled", ("paused",), "scheduled"),
    ("resume_sampling", ("paused",), "sampling"),
    ("resume_sending", ("paused",), "sending"),
    ("cancel", ("draft", "scheduled", "sampling", "sending", "paused"), "cancelled"),
    ("finish_sent", ("sending",), "sent"),
    ("finish_failed", ("sending",), "failed"),
    ("launch_refused", ("scheduled",), "failed"),
])
# The transitions the cancel cut-off guards, from the one state it applies to.
CUTOFF_GUARDED = {"pause", "cancel"}
CUTOFF_STATE = "scheduled"

B = ("pending", "claimed", "sent", "failed", "unknown", "cancelled")
SEND_BATCH = _machine("send batch", B, [
    ("claim", ("pending",), "claimed"),
    ("release", ("claimed",), "pending"),
    ("sent", ("claimed",), "sent"),
    ("fail", ("claimed",), "failed"),
    ("lost", ("claimed",), "unknown"),
    ("found", ("unknown",), "sent"),
    ("accepted_late", ("unknown",), "sent"),
    ("not_found", ("unknown",), "pending"),
    ("cancel", ("pending",), "cancelled"),
])


def cutoff_guard(now, cutoff) -> Q:
    """Rows a user may still pause or cancel: not scheduled, or scheduled further ahead than
    the cut-off (``scheduled_at`` empty means "at launch", which is not a due time)."""
    return ~Q(state=CUTOFF_STATE) | Q(scheduled_at__isnull=True) | Q(scheduled_at__gte=now + cutoff)


def move(machine: Machine, model: type[models.Model], pk, *, to: str, sources=None, guard: Q | None = None,
         field: str = "state", **fields) -> str | None:
    """Move row ``pk`` to ``to`` from its current state when the table allows that edge (and
    the current state is in ``sources`` when given, and ``guard`` holds): one conditional
    UPDATE. Returns the state it left, or None when nothing moved."""
    with transaction.atomic():
        current = model.objects.filter(pk=pk).values_list(field, flat=True).first()
        if current is None or not machine.allows(current, to):
            return None
        if sources is not None and current not in tuple(sources):
            return None
        rows = model.objects.filter(pk=pk, **{field: current})
        if guard is not None:
            rows = rows.filter(guard)
        if not rows.update(**{field: to}, **fields):
            return None
    return current
