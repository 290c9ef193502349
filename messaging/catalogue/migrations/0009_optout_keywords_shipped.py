"""The opt-out keywords shipped with the product (editable in the admin afterwards)."""

import unicodedata

from django.db import migrations

SHIPPED = {
    "stop": {
        "en": ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT"],
        "fr": ["STOP", "ARRET", "ARRÊT", "DESABONNER", "DÉSABONNER", "DESINSCRIRE"],
        "nl": ["STOP", "AFMELDEN", "UITSCHRIJVEN"],
        "de": ["STOPP", "STOP", "ABMELDEN", "ABBESTELLEN"],
        "es": ["BAJA", "PARAR", "STOP"],
        "it": ["STOP", "CANCELLA"],
        "sv": ["STOPP"],
        "no": ["STOPP"],
    },
    "start": {
        "en": ["START", "UNSTOP", "SUBSCRIBE"],
        "fr": ["START", "ABONNER"],
        "nl": ["START", "AANMELDEN"],
        "de": ["START", "ANMELDEN"],
    },
}


def keyword_normalise(text: str) -> str:
    """A frozen copy of ``models.keyword_normalise`` (a migration never imports live code)."""
    plain = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return " ".join(plain.split()).strip(".!?,;:-_ ").casefold()


def ship(apps, schema_editor):
    keyword = apps.get_model("messaging", "OptOutKeyword")
    for action, languages in SHIPPED.items():
        for language, words in languages.items():
            for word in words:
                keyword.objects.get_or_create(language=language, normalised=keyword_normalise(word),
                                              defaults={"word": word, "action": action})


def unship(apps, schema_editor):
    apps.get_model("messaging", "OptOutKeyword").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("messaging", "0008_optout_keywords")]

    operations = [migrations.RunPython(ship, unship)]
