"""The trial's sample relying party ("one-stop system", `run_sample_rp`), registered by seed_demo.
Its client secret is derived from SECRET_KEY so that the sample, started separately, knows it without
it being printed or stored anywhere in clear; only under DEBUG=1 (its addresses are http://127.0.0.1)."""
from django.conf import settings
from django.db import transaction
from django.utils.crypto import salted_hmac
from oauth2_provider.models import get_application_model

from accounts.models import Unit

from .models import ConnectedSystem
from .services import system_register

SAMPLE_NAME = "Hệ thống một cửa (mẫu)"
SAMPLE_CLIENT_ID = "sample-one-stop"
SAMPLE_PORT = 8001


def sample_secret() -> str:
    return salted_hmac("federation.demo.sample_relying_party", settings.SECRET_KEY, algorithm="sha256").hexdigest()


def sample_urls(port: int = SAMPLE_PORT) -> dict:
    base = f"http://127.0.0.1:{port}"
    return {"redirect_uri": f"{base}/callback", "backchannel_logout_uri": f"{base}/backchannel-logout",
            "home": f"{base}/"}


@transaction.atomic
def demo_system_seed(*, actor, unit_code: str, port: int = SAMPLE_PORT) -> ConnectedSystem | None:
    """Register (or refresh) the sample relying party for the unit's subtree; idempotent."""
    if not settings.DEBUG:
        return None
    unit = Unit.objects.get(code=unit_code)
    urls = sample_urls(port)
    system = ConnectedSystem.objects.filter(name=SAMPLE_NAME).select_related("application").first()
    if system is None:
        system, _secret = system_register(actor=actor, name=SAMPLE_NAME, unit=unit, redirect_uris=[urls["redirect_uri"]],
                                          backchannel_logout_uri=urls["backchannel_logout_uri"],
                                          contact="Trung tâm CNTT (hệ thống mẫu của bản dùng thử)")
    application = get_application_model().objects.get(pk=system.application_id)
    application.client_id = SAMPLE_CLIENT_ID
    application.client_secret = sample_secret()
    application.hash_client_secret = True
    application.redirect_uris = urls["redirect_uri"]
    application.post_logout_redirect_uris = urls["home"]
    application.save()
    ConnectedSystem.objects.filter(pk=system.pk).update(backchannel_logout_uri=urls["backchannel_logout_uri"],
                                                        is_active=True)
    return system
