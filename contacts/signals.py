"""Pulled contacts and segments get their tags once saved (the generic pull sets plain fields)."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from contacts.models import Contact, Segment


@receiver(post_save, sender=Contact)
@receiver(post_save, sender=Segment)
def apply_tags_after_pull(sender, instance, created, **kwargs):
    if created and getattr(instance, "_from_sync", False):
        from contacts.sync_adapters import apply_pending_tags

        apply_pending_tags(instance)


@receiver(post_save, sender=Segment)
def record_refused_segment_rules(sender, instance, created, **kwargs):
    """A segment created at BICS whose rules (the Edit after Create) were refused."""
    if not getattr(instance, "_from_sync", False) or not instance.bics_id:
        return
    from contacts.sync_adapters import ADAPTERS, SegmentAdapter

    adapter = next(a for a in ADAPTERS if isinstance(a, SegmentAdapter))
    reason = adapter.rules_refused.pop(instance.bics_id, None)
    if reason:
        from core.models import SyncState

        Segment.objects.filter(pk=instance.pk).update(
            sync_state=SyncState.FAILED,
            sync_error=f"created at BICS, but its rules were refused (pushed again next time): {reason}",
        )
