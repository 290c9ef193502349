import pytest

from core.phones import PhoneError, normalise_phone


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("+33 6 12 34 56 78", ("+33612345678", "FR")),
        ("+32 (0)470 12.34.56", ("+32470123456", "BE")),
        ("0032 470 12 34 56", ("+32470123456", "BE")),
        ("+1 650-253-0000", ("+16502530000", "US")),
        ("32470123456", ("+32470123456", "BE")),
    ],
)
def test_common_notations_become_e164(raw, expected):
    assert normalise_phone(raw) == expected


def test_number_without_country_code_needs_a_default_country():
    with pytest.raises(PhoneError, match="no country code"):
        normalise_phone("0470 12 34 56")
    assert normalise_phone("0470 12 34 56", "BE") == ("+32470123456", "BE")
    assert normalise_phone("06 12 34 56 78", "fr") == ("+33612345678", "FR")


@pytest.mark.parametrize("raw", ["+32 12", "+33 1", "not a number", "", "+999 123456789"])
def test_invalid_numbers_are_refused_with_a_reason(raw):
    with pytest.raises(PhoneError):
        normalise_phone(raw)


def test_possible_but_invalid_number_is_refused():
    # The right length for Belgium, but no such range: is_valid_number, not is_possible_number.
    with pytest.raises(PhoneError, match="not a valid number"):
        normalise_phone("+32 0000 0000")


def test_validity_agrees_with_phonenumbers_is_valid_number():
    import random

    import phonenumbers

    rng = random.Random(5)
    codes = [1, 7, 20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 52, 55,
             61, 62, 65, 81, 86, 90, 91, 212, 234, 351, 352, 353, 420, 800, 808, 870, 882, 971]  # fmt: skip
    valid = 0
    for code in codes:
        for _ in range(600):
            raw = f"+{code}{rng.randrange(10 ** rng.randint(4, 12))}"
            try:
                parsed = phonenumbers.parse(raw, None)
            except phonenumbers.NumberParseException:
                continue
            expected = phonenumbers.is_valid_number(parsed)
            try:
                phone, _ = normalise_phone(raw)
            except PhoneError:
                assert not expected, raw
                continue
            assert expected, raw
            assert phone == phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
            valid += 1
    assert valid > 1000  # plenty of valid numbers of many kinds in the sample


@pytest.mark.parametrize("raw", ["+1 201 555 0123", "+1 (212) 555-0199", "+12025550100"])
def test_fictional_us_numbers_are_refused(raw):
    with pytest.raises(PhoneError, match="fictional"):
        normalise_phone(raw)


def test_real_555_numbers_outside_the_fiction_range_are_kept():
    assert normalise_phone("+1 201 555 0200") == ("+12015550200", "US")
