"""Masking, once: numbers and numbers in free text; who sees them whole."""

import pytest
from django.contrib.auth.models import Permission

from core.masking import MASK_CHAR, can_view_full_numbers, mask_number, mask_numbers_in_text, number_for


def test_mask_keeps_the_country_prefix_and_last_three_digits_and_is_idempotent():
    assert mask_number("+32470123456") == "+32" + MASK_CHAR * 6 + "456"
    assert mask_number(mask_number("+32470123456")) == mask_number("+32470123456")
    assert mask_number("12345") == MASK_CHAR * 5 and mask_number("") == ""


def test_numbers_in_text_are_masked_short_digit_runs_are_not():
    text = "invalid number '+32 470 12 34 56': line 12 of 2024"
    assert mask_numbers_in_text(text) == "invalid number '+32" + MASK_CHAR * 6 + "456': line 12 of 2024"
    assert mask_numbers_in_text(None) == ""


@pytest.mark.django_db
def test_permissions_decide_who_sees_whole_numbers(django_user_model):
    user = django_user_model.objects.create_user("staff", password="x", is_staff=True)
    assert number_for(user, "+32470123456") == mask_number("+32470123456")
    user.user_permissions.add(Permission.objects.get(content_type__app_label="verify", codename="view_full_numbers"))
    user = django_user_model.objects.get(pk=user.pk)
    assert can_view_full_numbers(user)  # Verify's permission counts project-wide
    assert not can_view_full_numbers(user, ("core.view_full_numbers",))
    assert number_for(user, "+32470123456") == "+32470123456"
    user.is_active = False
    assert not can_view_full_numbers(user)
