"""The frequency cap at launch: inside the launch's transaction, before the messages are
written, each eligible contact of a promotional campaign either gets a ``PromotionalSend``
(counted by later launches) or a ``CapExclusion`` with the reason.

Two launches at the same moment take turns per contact: the contacts' ``CapCounter`` rows are
locked (``SELECT … FOR UPDATE``, in id order: no deadlock) before the sends in the period are
counted, and the lock is held until the launch commits. On PostgreSQL (READ COMMITTED) the
count, a new statement, sees the other launch's committed sends; on SQLite the launch holds
the database's write lock from its first statement (IMMEDIATE transactions).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone

from messaging.campaigns import frequency_selectors as caps
from messaging.campaigns.models import Campaign, CapCounter, CapExclusion, PromotionalSend

CHUNK = 1000


def frequency_cap_reserve(*, campaign: Campaign, eligible) -> dict:
    """Reserve the cap for ``eligible`` (the audience before the cap), chunk by chunk; returns
    ``{"frequency_cap": left out}`` for the campaign's ``exclusions`` (empty when no cap applies)."""
    cap = caps.cap_for(campaign)
    if cap is None:
        return {}
    assert transaction.get_connection().in_atomic_block, "the reservation must commit with the launch"
    now = timezone.now()
    since = caps.period_start(cap, now)
    reason = f"Frequency cap: {cap.max_messages} promotional messages in {cap.period_days} days already reached."
    left_out, last = 0, 0
    while True:
        ids = list(eligible.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:CHUNK])
        if not ids:
            return {"frequency_cap": left_out}
        last = ids[-1]
        left_out += _reserve_chunk(campaign, cap, ids, since, now, reason)


def _reserve_chunk(campaign: Campaign, cap, ids: list[int], since, now, reason: str) -> int:
    CapCounter.objects.bulk_create([CapCounter(contact_id=i) for i in ids], ignore_conflicts=True)
    list(CapCounter.objects.select_for_update().filter(contact_id__in=ids).order_by("pk").values_list("pk"))
    counts = dict(PromotionalSend.objects.filter(contact_id__in=ids, at__gt=since).exclude(campaign=campaign)
                  .values("contact_id").annotate(n=Count("id")).values_list("contact_id", "n"))
    over = [i for i in ids if counts.get(i, 0) >= cap.max_messages]
    admitted = [i for i in ids if counts.get(i, 0) < cap.max_messages]
    CapExclusion.objects.bulk_create([CapExclusion(campaign=campaign, contact_id=i, reason=reason) for i in over],
                                     ignore_conflicts=True)
    PromotionalSend.objects.bulk_create([PromotionalSend(campaign=campaign, contact_id=i, at=now) for i in admitted],
                                        ignore_conflicts=True)
    CapCounter.objects.filter(contact_id__in=admitted).update(sends=F("sends") + 1)
    return len(over)
