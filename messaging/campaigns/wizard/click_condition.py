"""The audience step's "Link clicks" choice: everyone, or only the recipients of an earlier
campaign with tracked links who clicked (or did not click) one. Kept as a ``ClickCondition``;
``link_selectors.click_condition_q`` applies it to the audience."""

from __future__ import annotations

from django import forms
from django.db.models import Exists, OuterRef

from messaging.campaigns.models import Campaign, ClickCondition, ShortLink

EVERYONE = ""
CHOICES_SHOWN = 50


def click_choices() -> list[tuple[str, str]]:
    with_links = (Campaign.objects.filter(Exists(ShortLink.objects.filter(campaign=OuterRef("pk"))))
                  .order_by("-launched_at", "-pk")[:CHOICES_SHOWN])
    choices = [(EVERYONE, "Everyone in the audience")]
    for campaign in with_links:
        choices.append((f"clicked:{campaign.pk}", f"Clicked a link of “{campaign.name}”"))
        choices.append((f"ignored:{campaign.pk}", f"Received “{campaign.name}” and did not click"))
    return choices


def add_click_field(form: forms.Form) -> None:
    form.fields["click_condition"] = forms.ChoiceField(
        label="Link clicks", required=False, choices=click_choices(),
        help_text="Narrow the audience to who clicked, or did not click, an earlier campaign's tracked link.")


def click_initial(campaign: Campaign | None) -> str:
    condition = ClickCondition.objects.filter(campaign_id=getattr(campaign, "pk", None)).first()
    if condition is None:
        return EVERYONE
    return f"{'clicked' if condition.clicked else 'ignored'}:{condition.source_id}"


def click_save(campaign: Campaign, value: str | None) -> None:
    kind, _, source = (value or "").partition(":")
    if kind not in ("clicked", "ignored") or not source.isdigit() or int(source) == campaign.pk:
        ClickCondition.objects.filter(campaign=campaign).delete()
        return
    ClickCondition.objects.update_or_create(campaign=campaign,
                                            defaults={"source_id": int(source), "clicked": kind == "clicked"})
