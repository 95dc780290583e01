from django.conf import settings


def portal_contact(request):
    """Letter: incidents are reported at once to the provincial IT Center; every page says how."""
    return {"IT_CENTER_CONTACT": settings.IT_CENTER_CONTACT}


def navigation(request):
    """Which main-menu entry the page belongs to, for aria-current."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return {}
    if match.namespace == "accounts":
        section = "units" if match.url_name.startswith("unit_") else "accounts"
    else:
        section = {"audit": "events", "policy": "policy"}.get(match.namespace, "")
        if match.namespace == "notifications":
            section = "failed_notices" if match.url_name == "failed" else "notifications"
    return {"section": section}
