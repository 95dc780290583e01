from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts.views import sessions as session_views
from accounts.views import signin as signin_views
from federation import views_oidc
from lookups.api import api as lookup_api

from . import views

urlpatterns = [
    # First: the lookup API is the busiest path (a system's every lookup), so the resolver tries it before
    # the pages (README, "Where a decision's time goes"). No other pattern starts with "api/".
    path("api/v1/", lookup_api.urls),
    path("", views.home_view, name="home"),
    path("healthz", views.healthz_view, name="healthz"),
    path("help/", views.help_view, name="help"),
    # Django's auth URLs and field names under /accounts/ (public contract), with the portal's forms.
    path("accounts/login/", signin_views.LoginView.as_view(), name="login"),
    # The second step of an account that needs one (field `otp_token`), or its enrolment.
    path("accounts/login/code/", signin_views.second_step_view, name="login_second_step"),
    path("accounts/login/enrol/", signin_views.enrolment_view, name="login_enrol"),
    path("accounts/login/enrol/qr.svg", signin_views.enrolment_qr_view, name="login_enrol_qr"),
    path("accounts/password_change/", signin_views.password_change_view, name="password_change"),
    path("accounts/sessions/", session_views.sessions_view, name="sessions"),
    path("accounts/sessions/end/", session_views.session_end_view, name="session_end"),
    path("accounts/sessions/keepalive/", session_views.session_keepalive_view, name="session_keepalive"),
    # No e-mailed reset links: a forgotten password is reset by the IT Center with a handover record.
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/accounts/", include("accounts.urls")),
    path("admin/policy/", include("policy.urls")),
    path("admin/audit/", include("audit.urls")),
    path("lookups/", include("lookups.urls")),
    path("notifications/", include("notifications.urls")),
    path("compliance/", include("compliance.urls")),
    path("letter/", include("letter.urls")),
    path("incidents/", include("incidents.urls")),
    # Connected systems: the OpenID Connect provider (issuer PORTAL_URL) and the registry page.
    path(".well-known/openid-configuration", views_oidc.PortalDiscoveryView.as_view(), name="oidc_discovery"),
    path("o/", include("federation.urls_oidc")),
    path("admin/systems/", include("federation.urls")),
]

# The portal's pages for refused requests, each recorded once (portal.views); 500.html is Django's
# default handler's, a page that needs nothing that could fail again.
handler403 = "portal.views.permission_denied_view"
handler404 = "portal.views.not_found_view"
