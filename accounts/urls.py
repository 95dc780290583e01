from django.urls import path

from .views import accounts as views
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
    path("units/search/", unit_views.unit_search_view, name="unit_search"),
]
