"""``{% campaign_link_stats campaign as stats %}``: the tracked-link figures for the campaign page."""

from django import template

register = template.Library()


@register.simple_tag
def campaign_link_stats(campaign):
    from messaging.campaigns.link_selectors import link_stats

    return link_stats(campaign)
