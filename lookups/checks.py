"""Deployment checks of the lookups app (`manage.py check --deploy`)."""
from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def synthetic_registry_check(app_configs, **kwargs):
    """A production portal answers officers from the national registry, never with invented citizens:
    the synthetic registry named with DEBUG=0 is allowed (a trial on production settings) but warned
    about, so that it cannot pass a deployment check unnoticed."""
    if getattr(settings, "LOOKUP_REGISTRY", "") == settings.SYNTHETIC_REGISTRY:
        return [Warning(
            "LOOKUP_REGISTRY is the synthetic registry: officers' lookups are answered with invented citizens.",
            hint="Set LOOKUP_REGISTRY=lookups.registry.HttpRegistry and LOOKUP_REGISTRY_URL for the national "
                 "population registry.",
            id="lookups.W001",
        )]
    return []
