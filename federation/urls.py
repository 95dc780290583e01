from django.urls import path

from . import views

app_name = "federation"

urlpatterns = [
    path("", views.registry_view, name="registry"),
    path("<int:pk>/", views.system_detail_view, name="system"),
    path("<int:pk>/secret/", views.system_secret_view, name="system_secret"),
    path("<int:pk>/state/", views.system_state_view, name="system_state"),
    path("api-clients/", views.api_client_create_view, name="api_client_create"),
    path("api-clients/<int:pk>/revoke/", views.api_client_revoke_view, name="api_client_revoke"),
]
