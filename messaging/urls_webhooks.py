"""URLs of the webhooks part of messaging."""

app_name = "webhooks"
urlpatterns = []
