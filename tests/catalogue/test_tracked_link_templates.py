"""SMS templates with tracked links at BICS: each ``{{link:…}}`` is registered as a variable
(the part that differs per recipient), a pull of that body keeps the local words and the
approval; WhatsApp and Viber templates refuse tracked links. Against the BICS sandbox."""

import pytest

from core import sync
from core.models import SyncState
from messaging.catalogue import rules
from messaging.catalogue.links import as_bics_body, local_content_of
from tests import sandbox_helpers as sb
from tests.catalogue.conftest import approved_here

LINKED = "Spring sale: {{link:https://shop.example/spring?utm=sms}} and {{link:https://shop.example/faq}} today."


def test_each_link_becomes_a_variable_of_its_own_never_one_the_template_uses():
    assert as_bics_body(LINKED) == "Spring sale: {{link_1}} and {{link_2}} today."
    assert as_bics_body("Hi {{link_1}}, see {{link:https://a.example/x}}") == "Hi {{link_1}}, see {{link_2}}"
    assert as_bics_body("No link, {{name}}.") == "No link, {{name}}."
    assert local_content_of("Spring sale: {{link_1}} and {{link_2}} today.", LINKED) == LINKED
    assert local_content_of("Spring sale: {{link_1}} now.", LINKED) == "Spring sale: {{link_1}} now."


@pytest.mark.django_db
@pytest.mark.sandbox
def test_a_template_with_links_is_pushed_with_variables_and_a_pull_keeps_its_words(bics_sandbox, make_template,
                                                                                 sender):
    sync.push("senders")
    template = approved_here(make_template(content=LINKED))
    result = sync.push("templates")
    assert len(result.created) == 1 and not result.failed
    assert sb.last_body(bics_sandbox, "sms.templates.create")["body"] == "Spring sale: {{link_1}} and {{link_2}} today."
    template.refresh_from_db()
    approved_hash = template.approved_hash
    pulled = sync.pull("templates")
    assert not pulled.failed and not pulled.conflicts
    template.refresh_from_db()
    assert template.content == LINKED and template.approval_current and template.approved_hash == approved_hash
    assert template.sync_state == SyncState.SYNCED
    assert [t.pk for t in pulled.unchanged] == [template.pk]


@pytest.mark.django_db
@pytest.mark.sandbox
def test_words_changed_at_bics_still_come_in_over_a_template_with_links(bics_sandbox, make_template, sender):
    sync.push("senders")
    template = approved_here(make_template(content=LINKED))
    sync.push("templates")
    template.refresh_from_db()
    changed = sb.api(bics_sandbox, "sms.templates.update", id=template.bics_id,
                     json={"body": "Summer sale: {{link_1}} today.", "name": template.name, "type": "P"})
    changed.raise_for_status()
    sync.pull("templates")
    template.refresh_from_db()
    assert template.content == "Summer sale: {{link_1}} today." and not template.approval_current


@pytest.mark.parametrize("channel", ["whatsapp", "viber"])
def test_tracked_links_are_refused_outside_sms(channel):
    found = rules.check(rules.TemplateFacts(content=LINKED, channel=channel))
    assert "link-sms-only" in {r.code for r in rules.errors(found)}
    assert "link-sms-only" not in {r.code for r in rules.check(rules.TemplateFacts(content=LINKED))}


def test_a_link_is_the_variable_part_a_transactional_template_needs():
    found = rules.check(rules.TemplateFacts(content="Your parcel: {{link:https://t.example/p}} today.",
                                            template_type="T"))
    assert "variables-required" not in {r.code for r in found}
    found = rules.check(rules.TemplateFacts(content="Your parcel ships today.", template_type="T"))
    assert "variables-required" in {r.code for r in rules.errors(found)}
