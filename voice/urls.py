from django.urls import path

from voice import views

app_name = "voice"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("tts/", views.tts_call, name="tts"),
    path("click2call/", views.click2call, name="click2call"),
    path("status/", views.status_lookup, name="status"),
    path("reports/logs/", views.call_log_report, name="logs"),
    path("reports/recordings/", views.recording_report, name="recordings"),
    path("pricing/", views.pricing, name="pricing"),
]
