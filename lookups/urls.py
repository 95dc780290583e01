from django.urls import path

from . import views

app_name = "lookups"

urlpatterns = [
    path("", views.lookup_view, name="lookup"),
    path("<int:pk>/reveal/", views.lookup_reveal_view, name="reveal"),
    path("log/", views.lookup_log_view, name="log"),
]
