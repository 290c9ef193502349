"""URLs of the webhooks part of messaging (mounted at /webhooks/bics/)."""

from django.urls import path

from messaging.webhooks.views import BicsReceiverView

app_name = "webhooks"
urlpatterns = [
    path("<str:key>/", BicsReceiverView.as_view(), name="receive"),
]
