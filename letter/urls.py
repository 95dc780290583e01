from django.urls import path

from . import views
from .views import directives, endpoints, inspections

app_name = "letter"
urlpatterns = [
    path("", views.letter_home_view, name="home"),
    path("directives/", directives.directive_list_view, name="directives"),
    path("directives/new/", directives.directive_create_view, name="directive_create"),
    path("directives/<int:pk>/", directives.directive_detail_view, name="directive"),
    path("directives/<int:pk>/acknowledge/", directives.directive_acknowledge_view, name="directive_acknowledge"),
    path("directives/<int:pk>/on-behalf/", directives.directive_on_behalf_view, name="directive_on_behalf"),
    path("directives/<int:pk>/measures/", directives.directive_measures_view, name="directive_measures"),
    path("directives/<int:pk>/versions/new/", directives.directive_version_view, name="directive_version"),
    path("directives/<int:pk>/v<int:version>.pdf", directives.directive_file_view, name="directive_file"),
    path("endpoints/", endpoints.endpoint_list_view, name="endpoints"),
    path("endpoints/new/", endpoints.endpoint_edit_view, name="endpoint_create"),
    path("endpoints/<int:pk>/", endpoints.endpoint_edit_view, name="endpoint_edit"),
    path("endpoints/import/", endpoints.endpoint_import_view, name="endpoint_import"),
    path("endpoints/imports/<int:pk>/", endpoints.endpoint_import_detail_view, name="endpoint_import_detail"),
    path("endpoints/template.<str:file_format>", endpoints.endpoint_template_view, name="endpoint_template"),
    path("endpoints/export.<str:file_format>", endpoints.endpoint_export_view, name="endpoint_export"),
    path("inspections/", inspections.inspection_list_view, name="inspections"),
    path("inspections/new/", inspections.inspection_create_view, name="inspection_create"),
    path("inspections/<int:pk>/", inspections.inspection_detail_view, name="inspection"),
    path("inspections/<int:pk>/record/", inspections.inspection_record_view, name="inspection_record"),
    path("fixes/<int:pk>/answer/", inspections.fix_answer_view, name="fix_answer"),
    path("fixes/<int:pk>/close/", inspections.fix_close_view, name="fix_close"),
    path("evidence/<str:kind>/<int:pk>/", inspections.evidence_file_view, name="evidence"),
]
