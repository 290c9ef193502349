"""URLs of the campaigns part of messaging (mounted at /campaigns/)."""

from django.urls import path

from messaging.campaigns import views

app_name = "campaigns"
urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("send/", views.one_off, name="one-off"),
    path("<int:pk>/", views.campaign_detail, name="detail"),
    path("<int:pk>/progress.json", views.campaign_progress, name="progress"),
    path("<int:pk>/messages.csv", views.campaign_messages_csv, name="messages-csv"),
    path("<int:pk>/preview/", views.campaign_preview, name="preview"),
]
