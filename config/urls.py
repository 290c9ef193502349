from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from core.ops.views import healthz
from messaging.campaigns.views_short_links import short_link_redirect
from messaging.moved import MOVED_ADMIN_PATTERN, moved_admin_redirect

admin.site.site_header = "BICS CPaaS back-office"
admin.site.site_title = "BICS back-office"
admin.site.index_title = "Administration"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("s/<str:code>", short_link_redirect, name="short-link"),
    # Admin pages of models that left the messaging app label: old bookmarks redirect.
    re_path(MOVED_ADMIN_PATTERN, moved_admin_redirect),
    path("admin/", admin.site.urls),
    path("verify/", include("verify.urls")),
    path("messaging/", include("messaging.catalogue.urls")),
    path("contacts/", include("contacts.urls")),
    path("voice/", include("voice.urls")),
    path("campaigns/new/", include("messaging.campaigns.wizard.urls")),
    path("campaigns/", include("messaging.campaigns.urls")),
    path("webhooks/bics/", include("messaging.webhooks.urls")),
    path("", include("core.ops.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
