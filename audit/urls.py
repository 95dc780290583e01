from django.urls import path

from . import views

app_name = "audit"
urlpatterns = [
    path("", views.event_list_view, name="events"),
    path("seals/", views.seal_overview_view, name="seals"),
    path("seals/verify/", views.seal_verify_view, name="seal_verify"),
    path("seals/public-key.pem", views.seal_public_key_view, name="seal_public_key"),
    path("seals/download/", views.seal_download_view, name="seal_download"),
]
