"""Staff pages: the template live preview (JSON) and the pricing table."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods
from django_tables2 import RequestConfig

from messaging.catalogue import rules, selectors
from messaging.catalogue.forms import PreviewForm
from messaging.catalogue.models import Channel, Sender
from messaging.catalogue.tables import PriceFilter, PriceTable


@staff_member_required
@permission_required("messaging.view_template", raise_exception=True)
@require_http_methods(["GET", "POST"])
def template_preview(request):
    """Character set, length, parts, rule results and price per recipient for a draft."""
    form = PreviewForm(request.POST or request.GET)
    form.is_valid()
    data = form.cleaned_data
    channel = data.get("channel") or Channel.SMS
    sender = Sender.objects.filter(pk=data.get("sender")).first() if data.get("sender") else None
    content = data.get("content") or ""
    facts = rules.TemplateFacts(
        channel=channel, content=content, name=data.get("name") or "",
        template_type=data.get("template_type") or "", message_type=data.get("message_type") or "A",
        sender_name=sender.name if sender else "", sender_numeric=sender.is_numeric if sender else None,
        has_consent_template=bool(data.get("consent_template")), channel_payload=form.payload(),
    )
    analysis = rules.analyse(content)
    unit = selectors.sender_unit_price(sender) if channel == Channel.SMS else None
    price = rules.price_per_recipient(analysis, unit)
    currency = ""
    if unit is not None and sender:
        row = selectors.prices().filter(iso=sender.country_code, service=sender.service).first()
        currency = row.currency if row else ""
    return JsonResponse({
        "analysis": analysis.as_dict(),
        "variables": rules.variables(content),
        "rules": [r.as_dict() for r in rules.check(facts)],
        "unit_price": str(unit) if unit is not None else None,
        "price_per_recipient": str(price) if price is not None else None,
        "currency": currency,
    })


@staff_member_required
@permission_required("messaging.view_price", raise_exception=True)
def pricing(request):
    filterset = PriceFilter(request.GET or None, queryset=selectors.prices())
    table = PriceTable(filterset.qs)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    return render(request, "messaging/pricing.html", {
        "filter": filterset, "table": table, "balance": selectors.latest_balance(),
        "title": "Pricing per country and service",
    })
