"""Builders for campaign tests: contacts, usable templates, campaigns, sandbox helpers."""

from __future__ import annotations

import itertools

import pytest
import requests
from django.contrib.auth.models import Group

from messaging.catalogue.models import Channel, Sender, Template, TemplateApproval


@pytest.fixture
def owner(django_user_model):
    user = django_user_model.objects.create_user(username="owner", email="owner@example.com", password="x",
                                                 is_staff=True)
    user.groups.add(Group.objects.get_or_create(name="Marketing")[0])
    return user


@pytest.fixture
def sender(db):
    return Sender.objects.create(name="ACME", country_code="BE", service="ENT", status=1)


def approve(template: Template, *, provider_status: str = "1", bics_id: str | None = None) -> Template:
    """Make ``template`` usable: approved here (a TemplateApproval row) and at the provider."""
    Template.objects.filter(pk=template.pk).update(approval_state="approved", provider_status=provider_status,
                                                   approved_hash=template.compute_content_hash(), sync_state="synced",
                                                   bics_id=bics_id or template.bics_id or f"t{template.pk}")
    template.refresh_from_db()
    TemplateApproval.objects.create(template=template, version=template.version, decision="approved",
                                    content=template.content, channel_payload=template.channel_payload,
                                    sender_name=template.sender.name if template.sender else "",
                                    template_type=template.template_type, content_hash=template.content_hash)
    return template


@pytest.fixture
def make_template(sender, owner):
    counter = itertools.count()

    def make(content="Hello {{first_name}}, our shop opens on Monday.", usable=True, **kw):
        kw.setdefault("channel", Channel.SMS)
        kw.setdefault("name", f"tpl_{next(counter)}")
        if kw["channel"] == Channel.SMS:
            kw.setdefault("sender", sender)
            kw.setdefault("template_type", "SI")
        template = Template.objects.create(content=content, author=owner, **kw)
        return approve(template) if usable else template

    return make


@pytest.fixture
def make_contacts(db):
    from contacts.models import Contact, Tag

    counter = itertools.count(1)

    def make(n, tag="audience", **fields):
        tag_obj, _ = Tag.objects.get_or_create(name=tag)
        made = []
        for _ in range(n):
            i = next(counter)
            contact = Contact.objects.create(phone=f"+3247{i:07d}", country="BE", first_name=f"Ann{i}", **fields)
            contact.tags.add(tag_obj)
            made.append(contact)
        return made

    return make


@pytest.fixture
def make_campaign(owner, sender, make_template):
    from contacts.models import Tag
    from messaging.campaigns.models import Campaign

    def make(template=None, tag="audience", **kw):
        template = template or make_template()
        kw.setdefault("name", "Spring")
        kw.setdefault("channel", template.channel)
        if template.channel == Channel.SMS:
            kw.setdefault("sender", template.sender)
        campaign = Campaign.objects.create(template=template, owner=owner, **kw)
        campaign.tags.add(Tag.objects.get_or_create(name=tag)[0])
        return campaign

    return make


class Sandbox:
    def __init__(self, server):
        self.server = server
        self.root = server.url.split("/api/v2/")[0] + "/_sandbox/"

    def get(self, path):
        resp = requests.get(self.root + path, timeout=5)
        resp.raise_for_status()
        return resp.json()

    def configure(self, **config):
        requests.post(self.root + "config", json=config, timeout=5).raise_for_status()

    def tick(self, seconds=60):
        requests.post(self.root + "tick", json={"seconds": seconds}, timeout=5).raise_for_status()

    def sent(self) -> dict:
        return self.get("sent")

    def sent_numbers(self) -> list[str]:
        return [item["number"] for item in self.sent()["items"]]

    def requests(self, route) -> int:
        return self.get("requests")["counts"].get(route, 0)


@pytest.fixture
def sandbox(bics_sandbox, settings):
    settings.CAMPAIGN_RECONCILE_GRACE = 0
    settings.BICS_RATE_LIMIT_REDIS_URL = ""
    box = Sandbox(bics_sandbox)
    box.configure(time_zone=settings.BICS_TIME_ZONE)  # its naive timestamps in BICS_TIME_ZONE, as in production
    return box


def no_duplicates(sandbox: Sandbox) -> bool:
    data = sandbox.sent()
    return not data["duplicates"] and all(p["count"] == 1 for p in data["pairs"])
