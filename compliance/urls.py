from django.urls import path

from . import points_views, views

app_name = "compliance"
urlpatterns = [
    path("units/<int:pk>/", views.unit_dashboard_view, name="unit"),
    path("units/<int:pk>/chart.json", views.unit_chart_view, name="unit_chart"),
    path("units/<int:pk>/accounts/", views.unit_accounts_view, name="unit_accounts"),
    path("accounts/<int:pk>/", views.account_view, name="account"),
    path("zones/", views.thresholds_view, name="thresholds"),
    path("reports/", views.report_list_view, name="reports"),
    path("reports/<int:pk>/", views.report_view, name="report"),
    path("reports/<int:pk>/report.<str:file_format>", views.report_file_view, name="report_file"),
    path("export/<str:list_name>.<str:file_format>", views.export_view, name="export"),
    path("exports/<int:pk>/", views.export_job_view, name="export_job"),
    path("exports/<int:pk>/progress.json", views.export_progress_view, name="export_progress"),
    path("exports/<int:pk>/download/", views.export_download_view, name="export_download"),
    # The letter point by point ("Điểm 1" … "Điểm 5").
    path("points/", points_views.points_ranking_view, name="points"),
    path("units/<int:pk>/points/", points_views.unit_points_view, name="unit_points"),
    path("units/<int:pk>/points.<str:file_format>", points_views.unit_points_export_view, name="unit_points_export"),
]
