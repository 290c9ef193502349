"""Grants model permissions to the staff groups from data migrations.

Django creates permissions only after a migrate has finished, so a migration that grants
one creates it first (the same codename and content type Django would give it).
"""


def grant(apps, group_name: str, app_label: str, model: str, codenames: list[str], names=None):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    group, _ = Group.objects.get_or_create(name=group_name)
    content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
    names = names or {}
    for codename in codenames:
        permission, _ = Permission.objects.get_or_create(
            codename=codename,
            content_type=content_type,
            defaults={"name": names.get(codename, codename.replace("_", " ").capitalize())},
        )
        group.permissions.add(permission)


def model_codenames(model: str, actions=("view", "add", "change", "delete")) -> list[str]:
    return [f"{action}_{model}" for action in actions]
