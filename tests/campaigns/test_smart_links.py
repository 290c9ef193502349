"""Staff name a campaign's smart-link id on the campaign and see its clicks there."""

import pytest

from messaging.campaigns.models import SmartLink, SmartLinkVisit

pytestmark = pytest.mark.django_db


def test_campaign_page_counts_the_clicks_of_its_smart_links(admin_client, make_campaign):
    campaign = make_campaign()
    link = SmartLink.objects.create(link_id="L-42", campaign=campaign, name="Spring offer")
    for n in range(3):
        SmartLinkVisit.objects.create(bics_id=f"v{n}", link_id="L-42", smart_link=link)
    SmartLinkVisit.objects.create(bics_id="other", link_id="L-99")  # another link: not counted
    page = admin_client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "smart-link clicks: 3" in page


def test_campaign_without_smart_link_shows_no_click_figure(admin_client, make_campaign):
    campaign = make_campaign()
    assert "smart-link clicks" not in admin_client.get(f"/campaigns/{campaign.pk}/").content.decode()


def test_smart_link_id_is_entered_on_the_campaign_admin(admin_client, make_campaign):
    campaign = make_campaign()
    page = admin_client.get(f"/admin/campaigns/campaign/{campaign.pk}/change/").content.decode()
    assert 'name="smart_links-0-link_id"' in page or "smart_links-TOTAL_FORMS" in page
