from django.urls import path

from .views import accounts as views
from .views import recertification as recertification_views
from .views import roster as roster_views
from .views import turnover as turnover_views
from .views import units as unit_views

app_name = "accounts"
urlpatterns = [
    path("", views.account_list_view, name="list"),
    path("new/", views.account_create_view, name="create"),
    path("<int:pk>/", views.account_detail_view, name="detail"),
    path("<int:pk>/edit/", views.account_edit_view, name="edit"),
    path("<int:pk>/reset/", views.account_reset_view, name="reset"),
    path("<int:pk>/disable/", views.account_disable_view, name="disable"),
    path("<int:pk>/enable/", views.account_enable_view, name="enable"),
    path("<int:pk>/unlock/", views.account_unlock_view, name="unlock"),
    path("<int:pk>/force-change/", views.account_force_change_view, name="force_change"),
    path("handover/<int:pk>/", views.handover_record_view, name="handover_record"),
    path("units/", unit_views.unit_list_view, name="unit_list"),
    path("units/new/", unit_views.unit_create_view, name="unit_create"),
    path("units/<int:pk>/rename/", unit_views.unit_rename_view, name="unit_rename"),
    path("units/<int:pk>/move/", unit_views.unit_move_view, name="unit_move"),
    path("units/<int:pk>/merge/", unit_views.unit_merge_view, name="unit_merge"),
    path("units/<int:pk>/retire/", unit_views.unit_retire_view, name="unit_retire"),
    path("turnover/", turnover_views.turnover_list_view, name="turnover_list"),
    path("turnover/new/", turnover_views.turnover_create_view, name="turnover_create"),
    path("turnover/holidays/", turnover_views.holiday_list_view, name="holiday_list"),
    path("turnover/holidays/<int:pk>/remove/", turnover_views.holiday_remove_view, name="holiday_remove"),
    path("turnover/<int:pk>/", turnover_views.turnover_detail_view, name="turnover_detail"),
    path("turnover/<int:pk>/submit/", turnover_views.turnover_submit_view, name="turnover_submit"),
    path("turnover/<int:pk>/cancel/", turnover_views.turnover_cancel_view, name="turnover_cancel"),
    path("turnover/<int:pk>/return/", turnover_views.turnover_return_view, name="turnover_return"),
    path("turnover/<int:pk>/accept/", turnover_views.turnover_accept_view, name="turnover_accept"),
    path("turnover/<int:pk>/execute/", turnover_views.turnover_execute_view, name="turnover_execute"),
    path("turnover/<int:pk>/lines/<int:line_pk>/confirm-move/", turnover_views.turnover_move_confirm_view,
         name="turnover_move_confirm"),
    path("turnover/<int:pk>/letter.pdf", turnover_views.turnover_attachment_view, name="turnover_attachment"),
    path("turnover/<int:pk>/record/", turnover_views.turnover_record_view, name="turnover_record"),
    path("units/search/", unit_views.unit_search_view, name="unit_search"),
    path("<int:pk>/exemption/", views.account_exemption_grant_view, name="exemption_grant"),
    path("<int:pk>/exemption/revoke/", views.account_exemption_revoke_view, name="exemption_revoke"),
    path("roster/", roster_views.roster_view, name="roster"),
    path("roster/template.<str:file_format>", roster_views.roster_template_view, name="roster_template"),
    path("roster/<int:pk>/", roster_views.roster_detail_view, name="roster_detail"),
    path("roster/<int:pk>/progress.json", roster_views.roster_progress_view, name="roster_progress"),
    path("roster/<int:pk>/turnover/", roster_views.roster_turnover_view, name="roster_turnover"),
    path("recertification/", recertification_views.recertification_view, name="recertification"),
    path("recertification/start/", recertification_views.recertification_start_view, name="recertification_start"),
    path("recertification/<int:pk>/close/", recertification_views.recertification_close_view,
         name="recertification_close"),
    path("recertification/<int:pk>/keep/", recertification_views.recertification_keep_view,
         name="recertification_keep"),
    path("recertification/<int:pk>/turnover/", recertification_views.recertification_turnover_view,
         name="recertification_turnover"),
    path("recertification/items/<int:pk>/decide/", recertification_views.recertification_decide_view,
         name="recertification_decide"),
]
