"""Declared state machines: each model's transitions in one table, each move one conditional
UPDATE (``WHERE pk = … AND state IN (the states this move may start from)``), so two workers,
a double click or a late answer can never move a record along an edge that is not declared.

    IMPORT_STATES = StateMachine("state", {
        "queued": {"running", "failed"},
        "running": {"done", "failed"},
    })
    IMPORT_STATES.move(ContactImport.objects, pk, "running", started_at=now)  # True if moved
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.db.models import Q, QuerySet

__all__ = ["IllegalTransition", "StateMachine"]


class IllegalTransition(ValueError):
    """A move that the table does not declare (a programming error, not a race)."""


class StateMachine:
    def __init__(self, field: str, transitions: Mapping[str, Iterable[str]]) -> None:
        self.field = field
        self.transitions: dict[str, frozenset[str]] = {str(k): frozenset(map(str, v)) for k, v in transitions.items()}

    @property
    def states(self) -> set[str]:
        return set(self.transitions) | {s for targets in self.transitions.values() for s in targets}

    def allowed(self, source: str, target: str) -> bool:
        return str(target) in self.transitions.get(str(source), frozenset())

    def sources(self, target: str) -> list[str]:
        """The states a move to ``target`` may start from (sorted, for stable SQL)."""
        return sorted(s for s, targets in self.transitions.items() if str(target) in targets)

    def move(self, queryset: QuerySet, pk, target: str, *, only_from: Iterable[str] | None = None,
             when: Q | None = None, **fields) -> bool:
        """One conditional UPDATE of row ``pk`` to ``target`` (plus ``fields``); False when the
        row is in no state the table allows this move from (someone else moved it first).

        ``only_from`` narrows the declared sources for one call site; ``when`` adds a guard
        (e.g. "claimed long ago") to the same statement.
        """
        return self.move_many(queryset.filter(pk=pk), target, only_from=only_from, when=when, **fields) == 1

    def move_many(self, queryset: QuerySet, target: str, *, only_from: Iterable[str] | None = None,
                  when: Q | None = None, **fields) -> int:
        """The same move for every row of ``queryset`` that may make it; the number moved."""
        sources = self.sources(target)
        if only_from is not None:
            wanted = [str(s) for s in only_from]
            undeclared = [s for s in wanted if s not in sources]
            if undeclared:
                raise IllegalTransition(f"{', '.join(undeclared)} -> {target} is not a declared transition")
            sources = wanted
        if not sources:
            raise IllegalTransition(f"nothing may move to {target}")
        scoped = queryset.filter(**{f"{self.field}__in": sources})
        if when is not None:
            scoped = scoped.filter(when)
        return scoped.update(**{self.field: target}, **fields)
