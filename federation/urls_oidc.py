"""The OpenID Connect provider's endpoints under /o/ (django-oauth-toolkit's URL names, so that its
discovery document finds them). Discovery itself is at /.well-known/openid-configuration (portal.urls)."""
from django.urls import path

from . import oidc_openapi, views_oidc

app_name = "oauth2_provider"

urlpatterns = [
    path("authorize/", views_oidc.PortalAuthorizationView.as_view(), name="authorize"),
    path("token/", views_oidc.PortalTokenView.as_view(), name="token"),
    path("revoke_token/", views_oidc.PortalRevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", views_oidc.PortalIntrospectView.as_view(), name="introspect"),
    path("userinfo/", views_oidc.PortalUserInfoView.as_view(), name="user-info"),
    path("jwks/", views_oidc.PortalJwksView.as_view(), name="jwks-info"),
    path("logout/", views_oidc.PortalLogoutView.as_view(), name="rp-initiated-logout"),
    path("openapi.json", oidc_openapi.oidc_openapi_view, name="openapi"),
    path(".well-known/openid-configuration", views_oidc.PortalDiscoveryView.as_view(),
         name="oidc-connect-discovery-info"),
]
