from django.urls import path

from contacts import views

app_name = "contacts"

urlpatterns = [
    path("imports/<int:pk>/progress.json", views.import_progress, name="import_progress"),
    path("imports/<int:pk>/rejected.csv", views.import_rejections_csv, name="import_rejections"),
    path("segments/preview.json", views.segment_preview, name="segment_preview"),
    path("segments/<int:pk>/export.csv", views.segment_export_csv, name="segment_export"),
]
