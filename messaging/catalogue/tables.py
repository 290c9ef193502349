"""django-tables2 tables and django-filter filter sets for staff pages."""

import django_filters
import django_tables2 as tables

from messaging.catalogue.models import Channel, Price


class PriceFilter(django_filters.FilterSet):
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    iso = django_filters.CharFilter(lookup_expr="iexact", label="Country (ISO)")
    country = django_filters.CharFilter(lookup_expr="icontains")
    service = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Price
        fields = ["channel", "iso", "country", "service"]


class PriceTable(tables.Table):
    price = tables.Column(attrs={"td": {"class": "num"}})

    class Meta:
        model = Price
        fields = ("channel", "iso", "country", "service", "subservice", "price", "currency", "status", "fetched_at")
        order_by = ("channel", "iso")
        attrs = {"class": "prices"}
