from django.urls import path

from . import views

app_name = "incidents"
urlpatterns = [
    path("", views.incident_list_view, name="list"),
    path("report/", views.incident_report_view, name="report"),
    path("<int:pk>/", views.incident_detail_view, name="detail"),
    path("<int:pk>/edit/", views.incident_edit_view, name="edit"),
    path("<int:pk>/triage/", views.incident_triage_view, name="triage"),
    path("<int:pk>/stage/", views.incident_state_view, name="state"),
    path("<int:pk>/note/", views.incident_note_view, name="note"),
    path("<int:pk>/evidence/", views.incident_evidence_view, name="evidence"),
    path("<int:pk>/evidence/<int:evidence_pk>/", views.incident_evidence_file_view, name="evidence_file"),
    path("<int:pk>/contain/", views.incident_contain_view, name="contain"),
    path("<int:pk>/deadline-met/", views.incident_deadline_met_view, name="deadline_met"),
    path("<int:pk>/print/", views.incident_print_view, name="print"),
    path("accounts/<int:pk>/contain/", views.account_contain_view, name="account_contain"),
    path("accounts/<int:pk>/lift/", views.account_lift_view, name="account_lift"),
    path("units/<int:pk>/", views.unit_containment_view, name="unit_containment"),
    path("open/anomaly/<int:flag_pk>/", views.open_from_anomaly_view, name="open_from_anomaly"),
    path("open/lockout/<int:event_pk>/", views.open_from_lockout_view, name="open_from_lockout"),
    path("open/seal/<int:verification_pk>/", views.open_from_seal_view, name="open_from_seal"),
    path("rules/", views.rules_view, name="rules"),
    path("rules/<int:set_pk>/rules/", views.rule_save_view, name="rule_add"),
    path("rules/<int:set_pk>/rules/<int:rule_pk>/", views.rule_save_view, name="rule_edit"),
]
