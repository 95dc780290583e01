"""The OpenID Connect provider's endpoints under /o/ (django-oauth-toolkit's URL names, so that its
discovery document finds them). Discovery itself is at /.well-known/openid-configuration (portal.urls)."""
from django.urls import path
from oauth2_provider import views as dot_views

from . import views_oidc

app_name = "oauth2_provider"

urlpatterns = [
    path("authorize/", views_oidc.PortalAuthorizationView.as_view(), name="authorize"),
    path("token/", dot_views.TokenView.as_view(), name="token"),
    path("revoke_token/", dot_views.RevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", views_oidc.PortalIntrospectView.as_view(), name="introspect"),
    path("userinfo/", dot_views.UserInfoView.as_view(), name="user-info"),
    path("jwks/", views_oidc.PortalJwksView.as_view(), name="jwks-info"),
    path("logout/", dot_views.RPInitiatedLogoutView.as_view(), name="rp-initiated-logout"),
    path(".well-known/openid-configuration", views_oidc.PortalDiscoveryView.as_view(),
         name="oidc-connect-discovery-info"),
]
