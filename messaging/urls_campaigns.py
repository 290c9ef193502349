"""URLs of the campaigns part of messaging."""

app_name = "campaigns"
urlpatterns = []
