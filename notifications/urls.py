from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.notice_list_view, name="list"),
    path("read/", views.notice_read_view, name="read"),
    path("preferences/", views.preferences_view, name="preferences"),
    path("failed/", views.failed_list_view, name="failed"),
]
