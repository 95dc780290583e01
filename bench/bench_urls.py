"""The portal's URLs plus the baseline of bench/lookups.py: a bare authenticated JSON view.

`POST /bench/baseline/` checks the bearer token exactly as the lookup API does
(lookups.selectors.api_client_for_token: one indexed equality on the token's keyed hash), parses the
JSON body and answers a constant JSON object. It goes through the same middleware, gunicorn worker and
database connection as `POST /api/v1/lookups/`, so the difference between the two is the decision:
validation, officer checks, quota check, the record and its commit, and django-ninja. Only served when
DJANGO_SETTINGS_MODULE=bench.bench_settings (the benchmark's gunicorn).
"""
import json

from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from lookups.selectors import api_client_for_token
from portal.urls import handler403, handler404  # noqa: F401
from portal.urls import urlpatterns as portal_urlpatterns


@csrf_exempt
@require_POST
def baseline_view(request):
    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    client = api_client_for_token(token.strip()) if scheme.lower() == "bearer" else None
    if client is None:
        return JsonResponse({"decision": "refuse", "reason": "unauthenticated"}, status=401)
    try:
        json.loads(request.body)
    except ValueError:
        return JsonResponse({"decision": "refuse", "reason": "malformed"}, status=400)
    return JsonResponse({"decision": "allow", "lookup_id": 0})


urlpatterns = [path("bench/baseline/", baseline_view, name="bench_baseline"), *portal_urlpatterns]
