from django import template

from messaging.catalogue import selectors

register = template.Library()


@register.inclusion_tag("messaging/balance.html")
def account_balance():
    from django.conf import settings

    balance = selectors.latest_balance()
    low = balance is not None and balance.balance < settings.BALANCE_WARNING_THRESHOLD
    waiting = selectors.templates_waiting_for_approval().count()
    return {"balance": balance, "low": low, "waiting": waiting}
