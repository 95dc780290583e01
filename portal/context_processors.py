from django.conf import settings


def portal_contact(request):
    """Letter: incidents are reported at once to the provincial IT Center; every page says how."""
    return {"IT_CENTER_CONTACT": settings.IT_CENTER_CONTACT}
