from django.urls import path

from messaging.catalogue import views

app_name = "messaging"
urlpatterns = [
    path("pricing/", views.pricing, name="pricing"),
    path("templates/preview/", views.template_preview, name="template-preview"),
]
