from django.urls import path

from verify import api, views

app_name = "verify"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("send/", views.send_test_otp, name="send"),
    path("requests/<uuid:public_id>/", views.test_otp_detail, name="detail"),
    path("requests/<uuid:public_id>/<str:action>/", views.test_otp_action, name="action"),
    path("api/otp/", api.otp_send, name="api-send"),
    path("api/otp/<str:otp_id>/check/", api.otp_check, name="api-check"),
]
