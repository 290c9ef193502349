from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from core.ops.views import healthz

admin.site.site_header = "BICS CPaaS back-office"
admin.site.site_title = "BICS back-office"
admin.site.index_title = "Administration"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("verify/", include("verify.urls")),
    path("messaging/", include("messaging.urls")),
    path("contacts/", include("contacts.urls")),
    path("voice/", include("voice.urls")),
    path("campaigns/new/", include("messaging.urls_wizard")),
    path("campaigns/", include("messaging.urls_campaigns")),
    path("webhooks/bics/", include("messaging.urls_webhooks")),
    path("", include("core.ops.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
