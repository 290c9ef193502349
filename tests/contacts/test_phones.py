import pytest

from contacts.services.phones import PhoneError, normalise_phone


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
