"""Admin base classes shared by the apps."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that come from BICS or from an engine: viewable (and deletable where the model
    admin allows it), never added or edited here. No full count on big tables."""

    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
