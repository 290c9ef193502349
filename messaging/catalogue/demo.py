"""Demo catalogue for `manage.py seed_demo`: idempotent (get_or_create by natural keys).

SMS senders, templates of each type and channel (some approved through the four-eyes
services, one waiting, one rejected), opt-outs for every channel, blocked templates.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from core.phones import normalise_phone
from messaging.catalogue.models import BlockedTemplate, Channel, Sender, Template, Unsubscriber
from messaging.catalogue.services import templates as services

SENDERS = [
    # name, country, service, notes
    ("BICSIN", "IN", "ENT", "India: 6 capital letters, DLT entity required."),
    ("777777", "IN", "MKT", "Numeric sender for promotional traffic (India)."),
    ("BICS", "BE", "ENT", "Belgium delivers via fixed short numeric senders."),
    ("Acme", "GB", "A2P", ""),
]

TEMPLATES = [
    # channel, name, sender, type, content, payload, outcome
    (Channel.SMS, "otp_login", "BICSIN", "T", "Your login code is {{code}}. It expires in 10 minutes.",
     {}, "approved"),
    (Channel.SMS, "order_confirmation", "BICSIN", "SI",
     "Your order {{order}} for a total of {{amount}} is confirmed. The expected delivery is {{date}}.",
     {}, "approved"),
    (Channel.SMS, "consent_marketing", "BICSIN", "SE",
     "Welcome {{name}}. Reply YES to receive our offers. To opt-out, send SMS as STOP to 1234567890",
     {}, "submitted"),
    (Channel.SMS, "spring_sale", "777777", "P",
     "Spring sale: 20% off everything this weekend in our stores! Reply STOP to opt out.", {}, "rejected"),
    (Channel.SMS, "appointment_reminder", "Acme", "SI",
     "Hello {{name}}, this is a reminder of your appointment on {{date}} at {{time}}.", {}, "draft"),
    (Channel.WHATSAPP, "delivery_update", None, "",
     "Hi {{name}}, your parcel {{tracking}} is on its way and arrives on {{date}}.",
     {"category": "utility", "language": "en", "number": "+3225476000", "type": "text", "is_conversation": True},
     "approved"),
    (Channel.WHATSAPP, "winter_offer", None, "",
     "Hello {{name}}, enjoy 15% off with code {{code}} until Sunday.",
     {"category": "marketing", "language": "en_US", "number": "+3225476000", "type": "template",
      "is_conversation": False, "buttons": [{"type": "reply", "text": "Shop now"}]},
     "submitted"),
    (Channel.VIBER, "payment_reminder", None, "",
     "Dear {{name}}, your invoice {{invoice}} of {{amount}} is due on {{date}}.",
     {"category": "transactional", "method": "transaction_text", "type": "text"}, "approved"),
]

UNSUBSCRIBERS = [
    (Channel.SMS, "+32470000001", "all", ""),
    (Channel.SMS, "+447911123456", "sender", "Acme"),
    (Channel.SMS, "+919876543210", "product", "MKT"),
    (Channel.WHATSAPP, "+32470000002", "tag", "newsletter"),
    (Channel.WHATSAPP, "+33612345678", "all", ""),
    (Channel.VIBER, "+380501234567", "category", "promotional"),
    (Channel.VIBER, "+375291234567", "all", ""),
]

BLOCKED = [("986458", "1"), ("986459", "0")]


def _user(username, group, **extra):
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"email": f"{username}@example.com", "is_staff": True, **extra})
    if created:
        user.set_unusable_password()
        user.save()
    user.groups.add(Group.objects.get_or_create(name=group)[0])
    return get_user_model().objects.get(pk=user.pk)  # fresh permission cache


def seed(stdout=None):
    author = _user("marketing.demo", "Marketing", first_name="Mia", last_name="Marketing")
    approver = _user("approver.demo", "Template approvers", first_name="Alex", last_name="Approver")
    senders = {}
    for name, country, service, notes in SENDERS:
        senders[name], _ = Sender.objects.get_or_create(
            name=name, country_code=country, service=service, defaults={"country_notes": notes})
    made = 0
    for channel, name, sender, kind, content, payload, outcome in TEMPLATES:
        template, created = Template.objects.get_or_create(
            channel=channel, name=name,
            defaults={"sender": senders.get(sender), "template_type": kind, "content": content,
                      "channel_payload": payload, "author": author, "last_edited_by": author,
                      # linked before submission: the consent template is part of the approved version
                      "consent_template": Template.objects.filter(channel=Channel.SMS, name="otp_login").first()
                      if kind == "SE" else None})
        if not created:
            continue
        made += 1
        if outcome == "draft":
            continue
        services.template_submit(template=template, user=author)
        if outcome == "approved":
            services.template_approve(template=template, user=approver, push=False)
        elif outcome == "rejected":
            services.template_reject(template=template, user=approver,
                                     reason="Promotional wording needs the legal opt-out text of the sender.")
    for channel, number, kind, value in UNSUBSCRIBERS:
        Unsubscriber.objects.get_or_create(channel=channel, number=number, type=kind, value=value,
                                           defaults={"iso": normalise_phone(number)[1]})
    for template_id, status in BLOCKED:
        BlockedTemplate.objects.get_or_create(template_id=template_id, defaults={"status": status})
    if stdout is not None:
        stdout.write(f"messaging: {Sender.objects.count()} senders, {Template.objects.count()} templates "
                     f"({made} new), {Unsubscriber.objects.count()} unsubscribers, "
                     f"{BlockedTemplate.objects.count()} blocked templates")
