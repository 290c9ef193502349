"""Demo contacts for `manage.py seed_demo`: idempotent (same numbers, same tags, every run)."""

import random

from contacts.models import Contact, Segment, Tag
from core.phones import PhoneError, normalise_phone

DEMO_SIZE = 300
# Valid mobile ranges per country: (prefix, digits after it).
RANGES = [("+32 47", 7), ("+33 6 1", 7), ("+31 6 1", 7), ("+44 77", 8), ("+49 151", 8), ("+34 6 1", 7)]
FIRST = ["Anna", "Bram", "Chloé", "Dirk", "Emma", "Farid", "Greta", "Hugo", "Inès", "Jan", "Lotte", "Noah"]
LAST = ["Peeters", "Janssens", "Dubois", "Müller", "Smith", "Maes", "Claes", "Martin", "García"]
CITIES = {"BE": "Brussels", "FR": "Paris", "NL": "Amsterdam", "GB": "London", "DE": "Berlin", "ES": "Madrid"}
TAGS = ["newsletter", "vip", "demo", "promo spring"]


def seed(stdout=None):
    rng = random.Random(20260101)
    tags = {name: Tag.objects.get_or_create(name=name)[0] for name in TAGS}
    created = 0
    for index in range(DEMO_SIZE):
        prefix, digits = RANGES[index % len(RANGES)]
        raw = prefix + str(rng.randrange(10 ** (digits - 1), 10**digits))
        first, last = rng.choice(FIRST), rng.choice(LAST)
        try:
            phone, country = normalise_phone(raw)
        except PhoneError:
            continue
        contact, was_created = Contact.objects.get_or_create(
            phone=phone,
            defaults={
                "country": country,
                "first_name": first,
                "last_name": last,
                "email": f"{first.lower()}.{index}@example.com".replace("é", "e").replace("è", "e"),
                "attributes": {"city": CITIES.get(country, "")},
            },
        )
        created += was_created
        wanted = [tags["demo"]]
        if index % 2 == 0:
            wanted.append(tags["newsletter"])
        if index % 10 == 0:
            wanted.append(tags["vip"])
        if index % 7 == 0:
            wanted.append(tags["promo spring"])
        contact.tags.add(*wanted)
    segment, _ = Segment.objects.get_or_create(name="Demo: newsletter, not VIP")
    segment.positive_tags.set([tags["newsletter"]])
    segment.negative_tags.set([tags["vip"]])
    local, _ = Segment.objects.get_or_create(
        name="Demo: Belgian newsletter readers",
        defaults={"conditions": [{"field": "country", "op": "eq", "value": "BE"}]},
    )
    local.positive_tags.set([tags["newsletter"]])
    if stdout is not None:
        stdout.write(f"contacts: {created} demo contacts added ({Contact.objects.count()} in all), 2 segments.")
