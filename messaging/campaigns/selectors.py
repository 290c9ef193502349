"""Read queries of the campaigns part: audience, exclusions, estimates, progress."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, Func, OuterRef, Q, QuerySet, Sum

from messaging.campaigns import dlr_codes, reports
from messaging.campaigns.models import Campaign, Message
from messaging.catalogue import rules
from messaging.catalogue.models import AccountBalance, Price, Template, Unsubscriber

VALID_NUMBER = r"^\+[1-9][0-9]{6,14}$"
CONTACT_FIELDS = ("first_name", "last_name", "email", "company", "postal_code", "phone", "identity",
                  "country", "gender")
VARIABLE_LIMIT = 30  # DLT-TM-VAR-EXECEED (Error Codes): "Template variable exceeded 30 characters."


def setting(name: str, default):
    return getattr(settings, name, default)


# --------------------------------------------------------------------------- content
def campaign_content(campaign: Campaign) -> str:
    """The text the campaign sends: the pinned approved version, else the last approval,
    else the template's current content (previews of drafts)."""
    if campaign.template_approval_id:
        return campaign.template_approval.content
    last = campaign.template.last_approval
    return last.content if last else (campaign.template.content or "")


def is_identical(campaign: Campaign) -> bool:
    """Same text for every recipient (no variable, or only constants, and no tracked link)?"""
    from messaging.catalogue.links import has_links  # tracked short links: one code per recipient

    return all(s.constant for s in variable_sources(campaign)) and not has_links(campaign_content(campaign))


def template_variables(campaign: Campaign) -> list[str]:
    seen: dict[str, None] = {}
    for name in rules.variables(campaign_content(campaign)):
        seen.setdefault(name, None)
    return list(seen)


@dataclass(frozen=True)
class VariableSource:
    name: str
    field: str  # a contact field, or "attributes.<key>"
    default: str = ""
    skip: bool = True  # skip the recipient when the value is missing (and no default)

    @property
    def constant(self) -> bool:
        return not self.field


def variable_sources(campaign: Campaign) -> list[VariableSource]:
    mapping = campaign.variable_mapping or {}
    sources = []
    for name in template_variables(campaign):
        spec = mapping.get(name) or {}
        if isinstance(spec, str):
            spec = {"field": spec}
        if "value" in spec:  # a constant: the same text for everyone
            sources.append(VariableSource(name, "", str(spec["value"]), False))
            continue
        default_field = name if name in CONTACT_FIELDS else f"attributes.{name}"
        default = str(spec.get("default") or "")
        skip = bool(spec.get("skip", not default))
        sources.append(VariableSource(name, str(spec.get("field") or default_field), default, skip))
    return sources


def _value(source: VariableSource, row: dict) -> str:
    if source.constant:
        return source.default
    if source.field.startswith("attributes."):
        value = (row.get("attributes") or {}).get(source.field.split(".", 1)[1])
    else:
        value = row.get(source.field)
    text = "" if value is None else str(value).strip()
    return text or source.default


VAR_RE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def render(content: str, values: dict) -> str:
    return VAR_RE.sub(lambda m: str(values.get(m.group(1), "")), content)


def recipient_values(sources: list[VariableSource], row: dict) -> dict | None:
    """Variable values for one contact row; None when a skip-when-missing value is missing."""
    values = {}
    for source in sources:
        value = _value(source, row)
        if not value and source.skip:
            return None
        values[source.name] = value
    return values


# --------------------------------------------------------------------------- audience
def campaign_sources(campaign: Campaign) -> list[QuerySet]:
    from contacts.models import Contact
    from contacts.selectors import segment_contacts

    sources = [segment_contacts(segment) for segment in campaign.segments.all()]
    tag_ids = list(campaign.tags.values_list("pk", flat=True))
    if tag_ids:
        through = Contact.tags.through
        sources.append(Contact.objects.filter(
            Exists(through.objects.filter(contact_id=OuterRef("pk"), tag_id__in=tag_ids))))
    return sources


def campaign_contacts(campaign: Campaign, keys: tuple[int, int] | None = None) -> QuerySet:
    """Every contact of the campaign's segments and tags, each once (one query); ``keys``
    (low, high]: only contacts in that primary-key range, the range inside every source's
    subquery too (a launch chunk then reads its range, not the whole audience)."""
    from contacts.models import Contact

    sources = campaign_sources(campaign)
    if not sources:
        return Contact.objects.none()
    bounds = Q(pk__gt=keys[0], pk__lte=keys[1]) if keys else Q()
    q = Q()
    for source in sources:
        q |= Q(pk__in=source.filter(bounds).values("pk"))
    from messaging.campaigns.link_selectors import click_condition_q  # "clicked campaign X"

    return Contact.objects.filter(bounds, q).filter(click_condition_q(campaign))


def opt_out_scope(channel: str, sender=None, template=None, *, tag_names=None) -> Q:
    """The ``Unsubscriber`` rows (of ``channel``) that cover a send with this sender and
    template (the documented scopes of Create Unsubscriber, per channel): ``all`` always; SMS/WhatsApp ``sender``
    (the sender's name, WhatsApp the template's number), ``product`` (the sender's service
    code); Viber ``account`` always and ``category`` (the template's category); ``tag`` when
    the contact carries a tag of that name (``tag_names``)."""
    payload = (template.channel_payload or {}) if template is not None else {}
    scope = Q(type=Unsubscriber.Type.ALL)
    if channel == "viber":
        scope |= Q(type=Unsubscriber.Type.ACCOUNT)
        if payload.get("category"):
            scope |= Q(type=Unsubscriber.Type.CATEGORY, value__iexact=str(payload["category"]))
    else:
        if channel == "whatsapp" and payload.get("number"):
            number = str(payload["number"])
            scope |= Q(type=Unsubscriber.Type.SENDER, value__in=[number, number.lstrip("+")])
        if sender is not None:
            scope |= Q(type=Unsubscriber.Type.SENDER, value__iexact=sender.name)
            scope |= Q(type=Unsubscriber.Type.PRODUCT, value__iexact=sender.service)
    if tag_names is not None:
        scope |= Q(type=Unsubscriber.Type.TAG, value__in=tag_names)
    return scope


def unsubscribed_q(campaign: Campaign) -> Q:
    """Contacts opted out within the documented scope of the opt-out (``opt_out_scope``)."""
    from contacts.models import Tag

    scope = opt_out_scope(campaign.channel, campaign.sender or campaign.template.sender, campaign.template,
                          tag_names=Tag.objects.filter(contacts=OuterRef(OuterRef("pk"))).values("name"))
    return Q(Exists(Unsubscriber.objects.filter(channel=campaign.channel, number=OuterRef("phone")).filter(scope)))


class ValidNumber(Func):
    """``VALID_NUMBER`` ('+', a digit 1-9, 6 to 14 more digits) tested in SQL. On SQLite
    without REGEXP, which is a Python callback there (the interpreter once per row, and the
    GIL taken back from every other thread of the process for it): '+', the first digit,
    the length, and no character but digits after the '+' (GLOB)."""

    conditional = True
    output_field = BooleanField()
    template = "(%(expressions)s ~ '^\\+[1-9][0-9]{6,14}$')"

    def as_sqlite(self, compiler, connection, **extra_context):
        text = "%(expressions)s"
        template = (f"(substr({text}, 1, 1) = '+' AND substr({text}, 2, 1) BETWEEN '1' AND '9' AND "
                    f"length({text}) BETWEEN 8 AND 16 AND substr({text}, 2) NOT GLOB '*[^0-9]*')")
        return super().as_sql(compiler, connection, template=template, **extra_context)


def invalid_q() -> Q:
    return ~Q(ValidNumber("phone"))


def missing_q(campaign: Campaign) -> Q:
    """Contacts missing a variable that is skip-when-missing without a default."""
    q = Q(pk__in=[])
    for source in variable_sources(campaign):
        if not source.skip or source.default or source.constant:
            continue
        if source.field.startswith("attributes."):
            key = source.field.split(".", 1)[1]
            q |= ~Q(attributes__has_key=key) | Q(**{f"attributes__{key}": ""}) \
                | Q(**{f"attributes__{key}__isnull": True})
        elif source.field in CONTACT_FIELDS:
            q |= Q(**{source.field: ""}) | Q(**{f"{source.field}__isnull": True})
        else:
            q = Q()  # an unknown field is always missing
    return q


# --------------------------------------------------------------------------- uploaded list
UPLOAD_FIELDS = ("first_name", "last_name", "email", "company", "postal_code", "identity", "gender")


def upload_rows(campaign: Campaign):
    """The uploaded list as contact-shaped dicts, streamed (``phone`` normalised to E.164 or
    '' when invalid; other columns go to ``attributes``). Raises ValueError without a number column."""
    from core.phones import PhoneError, normalise_phone
    from core.tabular import TableRefused, header_key, number_column, open_upload

    if not campaign.upload:
        return
    try:
        with campaign.upload.open("rb") as upload, open_upload(upload) as table:
            number_key = header_key(table.header[number_column(table.header)])
            for _line, row in table.dicts():
                raw = row.pop(number_key, "")
                try:
                    phone = normalise_phone(raw)[0] if raw else ""
                except PhoneError:
                    phone = ""
                data = {"pk": None, "phone": phone, "raw": raw, "country": "", "attributes": {}}
                for key, value in row.items():
                    if key in UPLOAD_FIELDS:
                        data[key] = value
                    else:
                        data["attributes"][key] = value
                yield data
    except TableRefused as exc:
        raise ValueError(f"The uploaded list cannot be read: {exc}") from None


def upload_unsubscribed(campaign: Campaign, numbers: list[str]) -> set[str]:
    """Numbers of an uploaded chunk opted out within scope (no tags: they are not contacts)."""
    channel = campaign.channel
    scope = Q(type=Unsubscriber.Type.ALL)
    if channel == "viber":
        scope |= Q(type=Unsubscriber.Type.ACCOUNT)
        category = (campaign.template.channel_payload or {}).get("category")
        if category:
            scope |= Q(type=Unsubscriber.Type.CATEGORY, value__iexact=str(category))
    else:
        sender = campaign.sender or campaign.template.sender
        if sender is not None:
            scope |= Q(type=Unsubscriber.Type.SENDER, value__iexact=sender.name)
            scope |= Q(type=Unsubscriber.Type.PRODUCT, value__iexact=sender.service)
    return set(Unsubscriber.objects.filter(channel=channel, number__in=numbers).filter(scope)
               .values_list("number", flat=True))


def upload_plan(campaign: Campaign, plan: AudiencePlan, contact_numbers=None) -> None:
    """Add the uploaded list to ``plan`` (one pass over the file)."""
    if not campaign.upload:
        return
    sources = variable_sources(campaign)
    seen: set[str] = set()
    chunk: list[dict] = []

    def flush():
        numbers = [r["phone"] for r in chunk]
        opted = upload_unsubscribed(campaign, numbers)
        known = set(eligible_contacts(campaign).filter(phone__in=numbers).values_list("phone", flat=True)) \
            if contact_numbers is None else contact_numbers & set(numbers)
        for r in chunk:
            if r["phone"] in known:
                plan.duplicates += 1
            elif r["phone"] in opted:
                plan.unsubscribed += 1
            elif recipient_values(sources, r) is None:
                plan.missing_variables += 1
            else:
                plan.eligible += 1
        chunk.clear()

    for row in upload_rows(campaign):
        plan.total += 1
        if not row["phone"] or not re.match(VALID_NUMBER, row["phone"]):
            plan.invalid += 1
            continue
        if row["phone"] in seen:
            plan.duplicates += 1
            continue
        seen.add(row["phone"])
        chunk.append(row)
        if len(chunk) >= 900:
            flush()
    if chunk:
        flush()


@dataclass
class AudiencePlan:
    total: int = 0  # contacts in the sources, each once
    duplicates: int = 0  # contacts found by more than one source
    unsubscribed: int = 0
    invalid: int = 0
    missing_variables: int = 0
    eligible: int = 0
    frequency_capped: int = 0  # promotional contacts at the frequency cap (frequency_selectors)
    eligible_by_country: dict = field(default_factory=dict)  # before the frequency cap
    warnings: list[str] = field(default_factory=list)

    @property
    def exclusions(self) -> dict:
        return {"duplicates": self.duplicates, "unsubscribed": self.unsubscribed,
                "invalid": self.invalid, "missing_variables": self.missing_variables,
                "frequency_cap": self.frequency_capped}


def eligible_contacts(campaign: Campaign, keys: tuple[int, int] | None = None) -> QuerySet:
    """The audience after every exclusion, resolved in the database (``keys``: a key range)."""
    from messaging.campaigns.frequency_selectors import cap_excluded_q  # left out by the frequency cap

    contacts = campaign_contacts(campaign, keys)
    return (contacts.exclude(invalid_q()).exclude(unsubscribed_q(campaign)).exclude(missing_q(campaign))
            .exclude(cap_excluded_q(campaign)))


def _audience_counts(campaign: Campaign, contacts: QuerySet) -> dict[str, list[int]]:
    """Per country: [contacts, valid, also subscribed, also with their variables], in one
    scan of the audience (each contact's exclusions evaluated once, not once per count)."""
    def flag(q: Q) -> ExpressionWrapper:
        return ExpressionWrapper(q, output_field=BooleanField())

    flags = contacts.order_by().annotate(
        f_valid=flag(~invalid_q()), f_subscribed=flag(~unsubscribed_q(campaign)),
        f_complete=flag(~missing_q(campaign))).values("country", "f_valid", "f_subscribed", "f_complete")
    try:
        sql, params = flags.query.sql_with_params()
    except EmptyResultSet:  # no segment or tag: Django will not write SQL for a set known empty
        return {}
    one = "SUM(CASE WHEN {} THEN 1 ELSE 0 END)"
    outer = (f"SELECT f.country, COUNT(*), {one.format('f.f_valid')}, "  # noqa: S608 - built from our queryset
             f"{one.format('f.f_valid AND f.f_subscribed')}, "
             f"{one.format('f.f_valid AND f.f_subscribed AND f.f_complete')} FROM ({sql}) f GROUP BY f.country")
    with connection.cursor() as cursor:
        cursor.execute(outer, params)
        return {country or "": [int(n or 0) for n in counts] for country, *counts in cursor.fetchall()}


def audience_plan(campaign: Campaign) -> AudiencePlan:
    """Counts for the preview (each exclusion counted in the order it is applied)."""
    sources = campaign_sources(campaign)
    contacts = campaign_contacts(campaign)
    plan = AudiencePlan()
    by_country = _audience_counts(campaign, contacts)
    total, valid, subscribed, plan.eligible = (sum(c[i] for c in by_country.values()) for i in range(4))
    plan.total = total
    plan.duplicates = max(sum(s.count() for s in sources) - plan.total, 0) if len(sources) > 1 else 0
    plan.invalid = total - valid
    plan.unsubscribed = valid - subscribed
    plan.missing_variables = subscribed - plan.eligible
    plan.eligible_by_country = {country: c[3] for country, c in by_country.items() if c[3]}
    eligible = contacts.exclude(invalid_q()).exclude(unsubscribed_q(campaign)).exclude(missing_q(campaign))
    from messaging.campaigns.frequency_selectors import capped_count  # the frequency cap

    plan.frequency_capped = capped_count(campaign, eligible)
    plan.eligible -= plan.frequency_capped
    try:
        upload_plan(campaign, plan)
    except ValueError as exc:
        plan.warnings.append(str(exc))
    return plan


# --------------------------------------------------------------------------- samples, cost
SAMPLE_FIELDS = ("pk", "phone", "country", "first_name", "last_name", "email", "company", "postal_code",
                 "identity", "gender", "attributes")


def rendered_samples(campaign: Campaign, limit: int = 3) -> list[dict]:
    """A few recipients' texts as they will read them: a tracked link in its short form (a
    placeholder code of the real length, ``catalogue.links``). ``test_text``: what a test send
    delivers, each link its target at once (a staff test is no campaign click)."""
    from messaging.catalogue.links import as_short_form, as_targets

    content = campaign_content(campaign)
    sources = variable_sources(campaign)
    rows = [(row["phone"], recipient_values(sources, row) or {})
            for row in eligible_contacts(campaign).order_by("pk").values(*SAMPLE_FIELDS)[:limit]]
    if not rows:
        rows = [("", {s.name: s.default or f"<{s.name}>" for s in sources})]
    out = []
    for number, values in rows:
        text = render(content, values)
        shown = as_short_form(text)
        out.append({"number": number, "text": shown, "test_text": as_targets(text),
                    "parts": parts_of(campaign, shown), "values": values})
    return out


def parts_of(campaign: Campaign, text: str) -> int:
    if campaign.channel != "sms":
        return 1
    # the type the engine sends (Send Message ``type``), so the preview bills like BICS
    message_type = getattr(campaign.template, "message_type", "") or "N"
    return max(rules.analyse(text, message_type).parts, 1)


@dataclass
class CostEstimate:
    total: Decimal = Decimal("0")
    currency: str = ""
    unpriced: int = 0  # recipients in countries without a known price
    by_country: dict = field(default_factory=dict)
    balance: Decimal | None = None
    balance_currency: str = ""

    @property
    def exceeds_balance(self) -> bool:
        return self.balance is not None and self.total > self.balance


def unit_price(campaign: Campaign, iso: str) -> Price | None:
    prices = Price.objects.filter(channel=campaign.channel, iso=iso or "").exclude(status="0")
    sender = campaign.sender or campaign.template.sender
    if sender is not None:
        exact = prices.filter(service=sender.service).first()
        if exact:
            return exact
    return prices.order_by("price").first()


def cost_estimate(campaign: Campaign, *, queryset: QuerySet | None = None, parts: int | None = None,
                  by_country: dict[str, int] | None = None) -> CostEstimate:
    """Recipients per country (``by_country`` when already counted) x unit price x parts (the
    first rendered sample's parts)."""
    if by_country is None:
        queryset = eligible_contacts(campaign) if queryset is None else queryset
        by_country = {row["country"]: row["n"] for row in queryset.order_by().values("country").annotate(n=Count("pk"))}
    parts = parts or max((s["parts"] for s in rendered_samples(campaign, limit=5)), default=1)
    estimate = CostEstimate()
    for country, n in by_country.items():
        row = {"country": country, "n": n}
        price = unit_price(campaign, row["country"])
        if price is None:
            estimate.unpriced += row["n"]
            continue
        amount = price.price * row["n"] * parts
        estimate.by_country[row["country"] or "?"] = {"recipients": row["n"], "unit": str(price.price),
                                                      "parts": parts, "amount": str(amount)}
        estimate.total += amount
        estimate.currency = estimate.currency or price.currency
    balance = AccountBalance.objects.order_by("-fetched_at").first()
    if balance is not None:
        estimate.balance, estimate.balance_currency = balance.balance, balance.currency
    return estimate


def dlr_warnings(campaign: Campaign, *, samples: list[dict] | None = None) -> list[str]:
    """Where the documented DLR codes foretell failure."""
    template = campaign.template
    warnings = []
    kind = template.template_type if campaign.channel == "sms" else ""
    if kind == Template.TemplateType.PROMOTIONAL:
        warnings.append("Promotional SMS outside the allowed hours are refused: 457 PROMO-TMOUT "
                        "(\"Promotional time exceeded\").")
        warnings.append("Numbers on a DND register are refused for promotional traffic: 408 DNDNUMB.")
    if kind in (Template.TemplateType.PROMOTIONAL, Template.TemplateType.SERVICE_EXPLICIT):
        content = campaign_content(campaign).lower()
        if not any(word in content for word in ("stop", "opt out", "opt-out", "unsubscribe")):
            warnings.append("No opt-out text (e.g. \"Reply STOP to opt out\") in a promotional or "
                            "service-explicit template: operators may reject it (458 REJECTED / 777 DLT-REJECTED).")
    sources = variable_sources(campaign)
    if sources:
        long = _long_variables(campaign, sources)
        if long:
            warnings.append(f"Variable(s) {', '.join(sorted(long))} longer than {VARIABLE_LIMIT} characters "
                            f"for some recipients: 783 {dlr_codes.STATUS_BY_CODE['783']}.")
    return warnings


def _long_variables(campaign: Campaign, sources: list[VariableSource], scan: int = 2000) -> set[str]:
    long = set()
    for row in eligible_contacts(campaign).order_by("pk").values(*SAMPLE_FIELDS)[:scan]:
        for source in sources:
            if len(_value(source, row)) > VARIABLE_LIMIT:
                long.add(source.name)
    for source in sources:
        if len(source.default) > VARIABLE_LIMIT:
            long.add(source.name)
    return long


# --------------------------------------------------------------------------- progress
def status_counts(campaign: Campaign) -> dict[str, int]:
    counts = {s: 0 for s, _ in Message._meta.get_field("status").choices}
    for row in Message.objects.filter(campaign=campaign).order_by().values("status").annotate(n=Count("pk")):
        counts[row["status"]] = row["n"]
    return counts


def campaign_progress(campaign: Campaign) -> dict:
    counts = status_counts(campaign)
    total = sum(counts.values())
    delivered = counts.get("delivered", 0) + counts.get("read", 0)
    final = delivered + counts.get("failed", 0) + counts.get("rejected", 0) + counts.get("expired", 0)
    done = total - counts.get("queued", 0)
    agg = Message.objects.filter(campaign=campaign).aggregate(parts=Sum("parts"), cost=Sum("price"))
    return {
        "state": campaign.state, "state_display": campaign.get_state_display(),
        "total": total, "counts": counts, "progress": round(100 * done / total, 1) if total else 0.0,
        "delivery_rate": round(100 * delivered / final, 1) if final else None,
        "parts": agg["parts"] or 0, "cost": f"{(agg['cost'] or 0):.4f}",  # prices have 4 decimals at most in the pricing table
        "currency": reports.cost_currency(campaign.channel),
        "estimated_cost": f"{campaign.estimated_cost:.4f}" if campaign.estimated_cost is not None else None,
        "reasons": failure_reasons(campaign),
        "timeline": reports.status_timeline(campaign),
    }


def failure_reasons(campaign: Campaign, limit: int = 10) -> list[dict]:
    rows = (Message.objects.filter(campaign=campaign, status__in=("failed", "rejected", "expired"))
            .order_by().values("bics_status", "error_code").annotate(n=Count("pk")).order_by("-n")[:limit])
    return [{"status": r["bics_status"], "code": r["error_code"], "count": r["n"],
             "description": dlr_codes.describe(r["bics_status"], r["error_code"])} for r in rows]


def campaign_delivery_rate(campaign: Campaign) -> float | None:
    return campaign_progress(campaign)["delivery_rate"]
