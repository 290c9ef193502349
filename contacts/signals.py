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
