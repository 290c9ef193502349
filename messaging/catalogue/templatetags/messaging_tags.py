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


# Sample values for the approver's preview: what a typical recipient's fields look like.
SAMPLE_VALUES = {"first_name": "Anna", "last_name": "Peeters", "company": "ACME", "email": "anna@example.com",
                 "postal_code": "9000", "city": "Gent", "country": "BE", "name": "Anna"}


@register.inclusion_tag("messaging/template_review.html")
def template_review(template):
    """What an approver reads first: the message as sent (a sample with its variables filled,
    characters and parts), then what changed since the last approved version."""
    import re

    from messaging.catalogue import rules
    from messaging.catalogue.services import templates as template_services

    content = template.content or ""
    names = list(dict.fromkeys(rules.variables(content)))
    values = {name: SAMPLE_VALUES.get(name.lower(), f"[{name}]") for name in names}
    sample = re.sub(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}", lambda m: values.get(m.group(1), m.group(0)), content)
    analysis = rules.analyse(sample, template.message_type or "A") if template.channel == "sms" else None
    last = template.last_approval
    diff = [(line[:1] if line[:1] in "+-@" else "", line) for line in template_services.template_diff(template).splitlines()]
    return {"template": template, "sample": sample, "values": values, "analysis": analysis,
            "last": last, "diff": diff, "unchanged": last is not None and not diff}
