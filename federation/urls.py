from django.urls import path

from . import views

app_name = "federation"

urlpatterns = [
    path("", views.registry_view, name="registry"),
    path("<int:pk>/", views.system_detail_view, name="system"),
    path("<int:pk>/secret/", views.system_secret_view, name="system_secret"),
    path("<int:pk>/state/", views.system_state_view, name="system_state"),
    path("<int:pk>/reconcile/", views.system_reconcile_view, name="system_reconcile"),
    path("<int:pk>/role-mapping/", views.system_role_mapping_view, name="system_role_mapping"),
    path("<int:pk>/resume/", views.system_resume_view, name="system_resume"),
    path("reconciliations/<int:pk>/", views.reconciliation_view, name="reconciliation"),
    path("reconciliations/<int:pk>/csv/", views.reconciliation_csv_view, name="reconciliation_csv"),
    path("reconciliations/<int:pk>/correct/", views.reconciliation_correct_view, name="reconciliation_correct"),
    path("tasks/", views.manual_tasks_view, name="manual_tasks"),
    path("tasks/<int:pk>/done/", views.manual_task_done_view, name="manual_task_done"),
    path("tasks/<int:pk>/evidence/", views.manual_task_evidence_view, name="manual_task_evidence"),
    path("api-clients/", views.api_client_create_view, name="api_client_create"),
    path("api-clients/<int:pk>/revoke/", views.api_client_revoke_view, name="api_client_revoke"),
]
