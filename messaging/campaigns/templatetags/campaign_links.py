"""Campaign page figures of the newer features: ``{% campaign_link_stats campaign as stats %}``
(tracked links) and ``{% campaign_window_wait campaign as wait %}`` (sending windows)."""

from django import template

register = template.Library()


@register.simple_tag
def campaign_link_stats(campaign):
    from messaging.campaigns.link_selectors import link_stats

    return link_stats(campaign)


@register.simple_tag
def campaign_window_wait(campaign):
    """Pending batches waiting for their sending window: countries and the next opening."""
    from messaging.campaigns.services.windows import windows_waiting

    return windows_waiting(campaign)
