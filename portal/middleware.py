from django.conf import settings
from django.http import Http404
from django.middleware.locale import LocaleMiddleware
from django.urls import get_resolver, get_urlconf, is_valid_path
from django.utils import translation
from django.utils.cache import add_never_cache_headers


class VietnameseFirstLocaleMiddleware(LocaleMiddleware):
    """Vietnamese unless the user chose English with the switch (the language cookie).

    Django's LocaleMiddleware would follow the browser's Accept-Language, and many offices run English
    Windows and Chrome: officers would get the English UI without asking for it."""

    def process_request(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = {code for code, _ in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


class NoStoreForSignedInMiddleware:
    """Every response to a signed-in user says `Cache-Control: no-store`: account lists, details,
    handover records and the audit log carry personal data, and offices share computers (a browser's
    back button or disk cache, or a proxy, must not show them to the next person).

    After AuthenticationMiddleware (it reads request.user). Static files keep their own caching:
    WhiteNoise answers them before this, and a static path it does not have is left alone here."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Asked before the view too: a request that ends the session (logout, idle) still answers a
        # signed-in user's browser.
        signed_in = request.user.is_authenticated
        response = self.get_response(request)
        if request.path_info.startswith(settings.STATIC_URL):
            return response  # a static path WhiteNoise did not have (a 404): no personal data
        if signed_in or request.user.is_authenticated:
            add_never_cache_headers(response)
        return response


class PortalErrorPagesMiddleware:
    """The portal's own 404 page (and its ACCESS_DENIED event) also under DEBUG=1, which `make run`
    uses: there Django would answer with its technical 404 page (the URL patterns, in English).
    With DEBUG=0 Django calls the portal's handler itself and this does nothing.

    Under CommonMiddleware, so that its slash-appending redirect still follows (the handler knows not
    to record a 404 that becomes a redirect). The handler is looked up like Django does (handler404 in
    the URLconf): this module stays below the views in docs/architecture.md's layering."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.DEBUG and response.status_code == 404 and not self._resolves(request):
            # No URL pattern matched: this is Django's technical page, not a view's answer.
            response = self._not_found(request, Http404())
        return response

    def process_exception(self, request, exception):
        if settings.DEBUG and isinstance(exception, Http404):
            return self._not_found(request, exception)
        return None

    @staticmethod
    def _resolves(request) -> bool:
        return bool(is_valid_path(request.path_info, getattr(request, "urlconf", None)))

    @staticmethod
    def _not_found(request, exception):
        handler = get_resolver(getattr(request, "urlconf", None) or get_urlconf()).resolve_error_handler(404)
        response = handler(request, exception=exception)
        if hasattr(response, "render"):
            response = response.render()
        return response


class PermissionsPolicyMiddleware:
    """`Permissions-Policy` on every answer (Django has no setting for it): the portal uses no camera,
    microphone, location or payment feature, so no page — nor anything injected into one — may."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response
