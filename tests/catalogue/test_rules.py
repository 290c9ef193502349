"""Template rules (good and bad content each) and GSM-7/Unicode part counting at every boundary."""

import pytest

from messaging.catalogue import rules
from messaging.catalogue.rules import TemplateFacts, analyse


def codes(**kw):
    return {r.code for r in rules.check(TemplateFacts(**kw))}


def sms(content, **kw):
    kw.setdefault("template_type", "SI")
    return codes(channel="sms", content=content, **kw)


GOOD = "Your order {{order}} is confirmed."


@pytest.mark.parametrize(
    ("code", "bad", "good"),
    [
        ("double-space", "Your order  {{order}} is confirmed.", GOOD),
        ("edge-space", " Your order {{order}} is confirmed.", GOOD),
        ("edge-space", "Your order {{order}} is confirmed. ", GOOD),
        ("angle-brackets", "Your order <{{order}}> is confirmed.", GOOD),
        ("empty-variable", "Your order {{}} is confirmed.", GOOD),
        ("bad-variable", "Your order {{order id}} is confirmed.", GOOD),
        ("unbalanced-braces", "Your order {{order} is confirmed.", GOOD),
        ("unbalanced-braces", "Your order {order}} is confirmed.", GOOD),
        ("variables-required", "Your order is confirmed.", GOOD),
        ("min-fixed-chars", "Hello {{name}}", "Hello! {{name}}"),
        ("variables-only", "{{a}} {{b}}", "Code: {{code}} ok"),
    ],
)
def test_content_rule_bad_and_good(code, bad, good):
    assert code in sms(bad)
    assert code not in sms(good)


@pytest.mark.parametrize("template_type", ["T", "SI", "SE"])
def test_transactional_and_service_need_a_variable(template_type):
    assert "variables-required" in sms("Thanks for shopping with us.", template_type=template_type)


def test_promotional_may_be_fully_fixed():
    assert "variables-required" not in sms("Big sale this weekend in all our stores.", template_type="P")


def test_promotional_from_alphanumeric_sender_warns():
    results = rules.check(TemplateFacts(content="Big sale this weekend.", template_type="P",
                                        sender_name="ACME", sender_numeric=False))
    warning = [r for r in results if r.code == "promo-numeric-sender"]
    assert warning and warning[0].level == rules.WARNING
    assert "promo-numeric-sender" not in codes(content="Big sale this weekend.", template_type="P",
                                                sender_name="777777", sender_numeric=True)


def test_service_explicit_without_consent_warns():
    results = rules.check(TemplateFacts(content=GOOD, template_type="SE"))
    assert [r.level for r in results if r.code == "consent-template"] == [rules.WARNING]
    assert "consent-template" not in sms(GOOD, template_type="SE", has_consent_template=True)


def test_normal_type_warns_characters_replaced_with_question_mark():
    results = rules.check(TemplateFacts(content="Bonjour {{name}}, été ✓", message_type="N"))
    warning = [r for r in results if r.code == "replaced-with-question-mark"]
    assert warning and "✓" in warning[0].message and "é" not in warning[0].message
    assert "replaced-with-question-mark" not in sms("Bonjour {{name}}, été ✓", message_type="A")


def test_warnings_do_not_count_as_errors():
    results = rules.check(TemplateFacts(content=GOOD, template_type="SE"))
    assert rules.errors(results) == []
    assert rules.warnings(results)


def test_whatsapp_variable_names_must_differ():
    payload = {"category": "utility", "language": "en", "number": "+3225476000", "type": "text",
               "is_conversation": True}
    assert "duplicate-variable" in codes(channel="whatsapp", name="a", content="Hi {{name}} and {{name}}",
                                         channel_payload=payload)
    assert codes(channel="whatsapp", name="a", content="Hello {{name}} and {{friend}}", channel_payload=payload) == set()


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"category": "promo"}, "wa-category"),
        ({"language": "fr"}, "wa-language"),
        ({"number": "abc"}, "wa-number"),
        ({"type": "video"}, "wa-type"),
        ({"is_conversation": "yes"}, "wa-is-conversation"),
        ({"is_conversation": False, "type": "text"}, "wa-non-service-type"),
        ({"media": {"kind": "image", "url": "https://x/a.png", "size": 6 * 1024 * 1024}}, "wa-media-size"),
        ({"media": {"kind": "image", "url": "https://x/a.gif", "mime": "image/gif"}}, "wa-media-format"),
        ({"media": {"kind": "hologram"}}, "wa-media"),
        ({"buttons": [{"type": "reply"}]}, "wa-buttons"),
    ],
)
def test_whatsapp_payload_rules(change, code):
    payload = {"category": "utility", "language": "en", "number": "+3225476000", "type": "text",
               "is_conversation": True, **change}
    assert code in codes(channel="whatsapp", name="n", content="Hello {{name}}, thanks.", channel_payload=payload)


def test_whatsapp_media_within_limits_passes():
    payload = {"category": "marketing", "language": "en_US", "number": "+3225476000", "type": "template",
               "is_conversation": False,
               "media": {"kind": "video", "url": "https://x/v.mp4", "size": 16 * 1024 * 1024, "mime": "video/mp4"},
               "buttons": [{"type": "url", "text": "Open"}]}
    assert codes(channel="whatsapp", name="n", content="Hello {{name}}, thanks.", channel_payload=payload) == set()


def test_viber_payload_rules_and_name_without_spaces():
    assert {"viber-category", "name-spaces"} <= codes(channel="viber", name="my template", content="Hello {{n}} there",
                                                      channel_payload={"category": "spam"})
    assert codes(channel="viber", name="my_template", content="Hello {{n}} there",
                 channel_payload={"category": "transactional", "method": "session_text"}) == set()


# --------------------------------------------------------------------------- encoding / parts
@pytest.mark.parametrize(
    ("length", "parts"),
    [(0, 0), (1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4), (153 * 5, 5), (153 * 5 + 1, 6)],
)
def test_gsm7_part_boundaries(length, parts):
    info = analyse("a" * length)
    assert (info.charset, info.units, info.parts) == ("GSM-7", length, parts)


@pytest.mark.parametrize(
    ("length", "parts"),
    [(70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4), (67 * 6, 6), (67 * 6 + 1, 7)],
)
def test_unicode_part_boundaries(length, parts):
    info = analyse("ж" * length)
    assert (info.charset, info.units, info.parts) == ("Unicode", length, parts)
    assert info.unicode_chars == ["ж"]


def test_euro_counts_double_in_gsm7():
    info = analyse("€" * 80)
    assert (info.charset, info.units, info.parts, info.extension_chars) == ("GSM-7", 160, 1, ["€"])
    assert analyse("€" * 80 + "a").parts == 2
    assert analyse("a" * 159 + "€").parts == 2


@pytest.mark.parametrize("char", list("^{}\\[~]|€"))
def test_every_extension_character_counts_two(char):
    assert analyse(char).units == 2


def test_gsm7_accents_and_greek_stay_gsm7():
    info = analyse("éèùìò ÇØøÅå ΔΦΓΛΩΠΨΣΘΞ ÄÖÑÜ§¿äöñüà £¥@")
    assert info.charset == "GSM-7" and info.unicode_chars == []


def test_characters_forcing_unicode_are_listed_once():
    info = analyse("Prix: 5€ – merci ✓ ✓ ç")
    assert info.charset == "Unicode"
    assert info.unicode_chars == ["–", "✓", "ç"]


def test_emoji_counts_two_utf16_units():
    info = analyse("😀" * 35)
    assert (info.units, info.parts) == (70, 1)


def test_price_per_recipient_multiplies_parts():
    from decimal import Decimal

    assert rules.price_per_recipient(analyse("a" * 161), Decimal("0.05")) == Decimal("0.10")
    assert rules.price_per_recipient(analyse("a"), None) is None


# --------------------------------------------------------------------------- sender policy
def test_sender_policy_table_is_shipped_with_every_documented_country():
    policies = rules.sender_policies()
    assert len(policies) == 205
    assert policies["BE"].policy == "Fixed short numeric"
    assert policies["IN"].kind == "alpha"


@pytest.mark.parametrize(
    ("name", "country", "code"),
    [("ACME", "US", "sender-country-numeric"), ("12345", "GH", "sender-country-alpha"),
     ("ACME", "AE", "sender-country-registration"), ("ACME", "PK", "sender-country-generic"),
     ("Acme1", "IN", "sender-india-format")],
)
def test_sender_policy_warnings(name, country, code):
    assert code in {r.code for r in rules.check_sender(name=name, country_code=country)}


def test_sender_suiting_its_country_has_no_warning():
    assert rules.check_sender(name="ACME", country_code="DE") == []
    assert rules.check_sender(name="BICSIN", country_code="IN") == []
