from django.urls import path

from core.ops import views

app_name = "ops"
urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/sync-runs.json", views.sync_runs_json, name="sync-runs"),
]
