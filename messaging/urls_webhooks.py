"""URLs of the webhooks part of messaging (mounted at /webhooks/bics/)."""

from django.urls import path

from messaging.webhooks.base import BicsWebhookView

app_name = "webhooks"
urlpatterns = [
    path("<str:key>/", BicsWebhookView.as_view(), name="receive"),
]
