import pytest

from core.phones import PhoneError, PhoneProblem, e164_from_bics, normalise_phone, to_bics


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


def test_a_wrong_country_code_is_not_a_missing_one():
    with pytest.raises(PhoneError, match="invalid country code") as caught:
        normalise_phone("+999 1234 5678")
    assert caught.value.problem is PhoneProblem.INVALID_COUNTRY_CODE
    with pytest.raises(PhoneError, match="invalid country code"):
        normalise_phone("+999 1234 5678", "BE")  # a default country does not excuse it
    with pytest.raises(PhoneError, match=r"no country code \(give a default country\)") as caught:
        normalise_phone("0470 12 34 56")
    assert caught.value.problem is PhoneProblem.NO_COUNTRY_CODE
    with pytest.raises(PhoneError, match="unknown default country 'XX'"):
        normalise_phone("0470 12 34 56", "xx")


def test_each_refusal_names_its_problem():
    cases = {"": PhoneProblem.EMPTY, "not a number": PhoneProblem.NOT_A_NUMBER,
             "+32 0000 0000": PhoneProblem.INVALID, "+1 201 555 0123": PhoneProblem.FICTIONAL}
    for raw, problem in cases.items():
        with pytest.raises(PhoneError) as caught:
            normalise_phone(raw)
        assert caught.value.problem is problem, raw
    assert str(PhoneError("+32 12", PhoneProblem.INVALID)) == "invalid number '+32 12': not a valid number"


@pytest.mark.parametrize(
    "value, expected",
    [("32470123456", "+32470123456"), ("+32 470 12 34 56", "+32470123456"), ("0032470123456", "+32470123456"),
     ("3278000000", "+3278000000"), (32470123456, "+32470123456"), ("", ""), (None, ""), ("n/a", "")],
)
def test_numbers_from_bics_are_converted_never_refused(value, expected):
    assert e164_from_bics(value) == expected


def test_wire_notations_come_from_the_bics_package():
    assert to_bics("+32470123456") == "32470123456"
    assert to_bics("+32470123456", "plus") == "+32470123456"
    assert to_bics("+32470123456", "none") == "+32470123456"
    with pytest.raises(ValueError, match="unknown number notation"):
        to_bics("+32470123456", "dots")


def _reference(text: str, region: str | None = None):
    """normalise_phone's answer computed with phonenumbers' public functions only."""
    import phonenumbers

    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    national = parsed.national_number
    if parsed.country_code == 1 and str(national)[3:6] == "555" and 100 <= national % 10000 <= 199:
        return None
    found = phonenumbers.region_code_for_number(parsed)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), found if len(found) == 2 else ""


def test_plain_international_numbers_take_a_short_path_to_the_same_answers():
    """'+CC NNN' texts skip the library's general parser: every region's example numbers, a
    few digits changed, in several notations (with and without a national prefix after the
    calling code, which the general parser strips) agree with phonenumbers itself."""
    import random

    import phonenumbers
    from phonenumbers import PhoneNumberType

    from core.phones import _plain_international

    rng = random.Random(11)
    kinds = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.TOLL_FREE, PhoneNumberType.VOIP)
    examples = [phonenumbers.example_number_for_type(region, kind)
                for region in sorted(phonenumbers.SUPPORTED_REGIONS) for kind in kinds]
    examples += [phonenumbers.example_number_for_non_geo_entity(code)
                 for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS)]
    examples = [example for example in examples if example is not None]
    short = valid = 0
    for example in examples * 8:
        nsn = phonenumbers.national_significant_number(example)
        changed = rng.randint(0, min(4, len(nsn)))
        nsn = nsn[: len(nsn) - changed] + "".join(rng.choice("0123456789") for _ in range(changed))
        code = example.country_code
        text = rng.choice([f"+{code}{nsn}", f"+{code} {nsn[:3]} {nsn[3:]}", f"+{code}.{nsn[:2]}-{nsn[2:]}",
                           f"+{code} 0{nsn}", f"+{code}{rng.randrange(10)}{nsn}"])
        expected = _reference(text)
        try:
            got = normalise_phone(text)
        except PhoneError:
            got = None
        assert got == expected, text
        plain = _plain_international(text)
        if plain is not None:
            parsed = phonenumbers.parse(text, None)
            assert plain == (parsed.country_code, phonenumbers.national_significant_number(parsed)), text
            short += 1
        valid += expected is not None
    assert short > len(examples) * 4 and valid > len(examples) * 4  # both paths and many valid numbers


def test_national_notations_with_a_default_country_agree_with_phonenumbers():
    import phonenumbers
    from phonenumbers import PhoneNumberFormat, PhoneNumberType

    checked = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        example = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE)
        if example is None:
            continue
        for notation in (PhoneNumberFormat.NATIONAL, PhoneNumberFormat.INTERNATIONAL):
            text = phonenumbers.format_number(example, notation)
            try:
                got = normalise_phone(text, region)
            except PhoneError:
                got = None  # e.g. the US example is a fictional 555-01XX number
            assert got == _reference(text, region), (region, text)
            checked += 1
    assert checked > 400
