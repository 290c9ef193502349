"""Real-browser tests; their fixtures (browser, page, login, screenshot) live in tests/conftest.py
so that browser tests of other apps share the one Playwright instance."""

import pytest


@pytest.fixture(scope="session")
def migrated_groups(django_db_setup, django_db_blocker):
    """The staff groups and their grants as the data migrations made them (by natural key)."""
    from django.contrib.auth.models import Group

    with django_db_blocker.unblock():
        return {group.name: sorted(group.permissions.values_list("content_type__app_label", "codename"))
                for group in Group.objects.all()}


@pytest.fixture(autouse=True)
def staff_groups(request, migrated_groups):
    """Browser tests start with the migrated groups and grants. A serialized rollback between
    two live-server tests does not always bring them back on SQLite, so they are put back by
    natural key (content-type ids differ after a flush)."""
    marker = request.node.get_closest_marker("django_db")
    if not (marker and marker.kwargs.get("transaction")):
        return
    request.getfixturevalue("transactional_db")
    from django.contrib.auth.models import Group, Permission

    for name, grants in migrated_groups.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = [Permission.objects.get(content_type__app_label=app, codename=codename) for app, codename in grants]
        group.permissions.set(wanted)
