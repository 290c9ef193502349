"""Admin actions that one app offers on another app's models, without editing its ModelAdmin.

A ModelAdmin opts in with `ContributedActionsMixin`; an app that owns an action registers it
for a model label from its `AppConfig.ready()` (`contribute_action("contacts.Contact", fn)`).
The owning app never imports the contributor, and the contributor never reaches into
`admin.site`: the ops app adds "Erase personal data" to contacts this way.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.admin.options import IS_POPUP_VAR

_actions: dict[str, dict[str, Callable]] = {}


def contribute_action(model_label: str, action: Callable, name: str | None = None) -> None:
    """Offer `action` (an `@admin.action` function) on the admin of `model_label` ("app.Model")."""
    _actions.setdefault(model_label.lower(), {})[name or action.__name__] = action


def contributed_actions(model_label: str) -> dict[str, Callable]:
    return dict(_actions.get(model_label.lower(), {}))


class ContributedActionsMixin:
    """Adds the actions other apps contributed for this model, filtered by the same
    `allowed_permissions` rule Django applies to the admin's own actions."""

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.actions is None or IS_POPUP_VAR in request.GET:
            return actions  # actions switched off, as Django does for its own
        for name, func in contributed_actions(self.model._meta.label).items():
            if name in actions or not self._may_run(request, func):
                continue
            description = getattr(func, "short_description", name.replace("_", " "))
            actions[name] = (func, name, description)
        return actions

    def _may_run(self, request, func) -> bool:
        needed = getattr(func, "allowed_permissions", ())
        return all(getattr(self, f"has_{perm}_permission")(request) for perm in needed)
