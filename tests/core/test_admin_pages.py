"""Every registered admin changelist and add page renders for a superuser."""

import pytest
from django.contrib import admin
from django.urls import reverse

pytestmark = pytest.mark.django_db


def registered_models():
    return sorted(admin.site._registry, key=lambda m: m._meta.label)


@pytest.mark.parametrize("model", registered_models(), ids=lambda m: m._meta.label)
def test_changelist_and_add_page_render(admin_client, model):
    opts = model._meta
    changelist = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert changelist.status_code == 200
    model_admin = admin.site._registry[model]
    add_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
    response = admin_client.get(add_url)
    expected = 200 if model_admin.has_add_permission(response.wsgi_request) else 403
    assert response.status_code == expected


def test_admin_index_names_the_product(admin_client):
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    assert "BICS CPaaS back-office" in response.content.decode()


def test_staff_groups_exist(db):
    from django.contrib.auth.models import Group

    assert set(Group.objects.values_list("name", flat=True)) >= {"Marketing", "Template approvers"}
