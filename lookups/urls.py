from django.urls import path, register_converter

from . import views

app_name = "lookups"


class FileFormatConverter:
    regex = "csv|xlsx"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(FileFormatConverter, "file_format")

urlpatterns = [
    path("", views.lookup_view, name="lookup"),
    path("<int:pk>/reveal/", views.lookup_reveal_view, name="reveal"),
    path("log/", views.lookup_log_view, name="log"),
    path("anomalies/", views.anomaly_list_view, name="anomalies"),
    path("anomalies/<int:pk>/", views.anomaly_detail_view, name="anomaly"),
    path("quotas/", views.quota_overrides_view, name="quotas"),
    path("quotas/<int:pk>/clear/", views.quota_override_clear_view, name="quota_clear"),
    path("history/<int:pk>/export.<file_format:file_format>", views.lookup_history_export_view,
         name="history_export"),
]
