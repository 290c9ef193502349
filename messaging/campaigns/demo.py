"""Demo campaigns for ``seed_demo`` (after the catalogue and contacts have theirs): a demo segment
(contacts tagged "demo"), a draft SMS campaign on an approved template (the first campaign by
id; no smart delivery, so ``send_campaign <id> --now --wait`` finishes in seconds against the
sandbox) and a second one with smart delivery on. Idempotent (get_or_create by name)."""

from django.contrib.auth import get_user_model

DEMO_SEGMENT = "Demo audience"
FIRST = "Demo: login code reminder (SMS)"
SECOND = "Demo: order update with smart delivery (SMS)"


def seed(stdout=None):
    from contacts.models import Segment, Tag
    from messaging.campaigns.models import Campaign
    from messaging.catalogue.models import Template

    tag, _ = Tag.objects.get_or_create(name="demo")
    segment, created = Segment.objects.get_or_create(name=DEMO_SEGMENT)
    if created:
        segment.positive_tags.add(tag)
    owner = get_user_model().objects.filter(username="marketing.demo").first() \
        or get_user_model().objects.filter(is_superuser=True).first()
    otp = Template.objects.filter(channel="sms", name="otp_login").first()
    order = Template.objects.filter(channel="sms", name="order_confirmation").first()
    made = 0
    if otp is not None and not Campaign.objects.filter(name=FIRST).exists():
        first = Campaign.objects.create(
            name=FIRST, channel="sms", template=otp, sender=otp.sender, owner=owner,
            variable_mapping={"code": {"value": "DEMO-2026"}}, batch_size=100)
        first.segments.add(segment)
        made += 1
    if order is not None and not Campaign.objects.filter(name=SECOND).exists():
        second = Campaign.objects.create(
            name=SECOND, channel="sms", template=order, sender=order.sender, owner=owner,
            variable_mapping={"order": {"field": "attributes.city", "default": "A-1001"},
                              "amount": {"value": "EUR 25"}, "date": {"value": "Monday"}},
            smart_delivery=True, smart_sample_size=10, smart_delay_minutes=15)
        second.segments.add(segment)
        made += 1
    if stdout is not None:
        stdout.write(f"campaigns: {Campaign.objects.count()} campaigns ({made} new), segment \"{DEMO_SEGMENT}\"")
