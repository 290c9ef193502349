"""URLs of the campaign wizard (mounted at /campaigns/new/)."""

from django.urls import path

from messaging.campaigns.wizard import views

app_name = "wizard"
urlpatterns = [
    path("", views.audience, name="start"),
    path("template/", views.template_step, name="template-new"),
    path("audience-count.json", views.audience_count, name="audience-count"),
    path("<int:pk>/audience/", views.audience, name="audience"),
    path("<int:pk>/template/", views.template_step, name="template"),
    path("<int:pk>/schedule/", views.schedule, name="schedule"),
    path("<int:pk>/preview/", views.preview, name="preview"),
    path("<int:pk>/test/", views.test_send, name="test"),
    path("<int:pk>/launch/", views.launch, name="launch"),
]
