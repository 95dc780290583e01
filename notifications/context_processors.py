from .selectors import unread_count


def notification_bell(request):
    """The header's bell: how many of the signed-in person's notices are unread (one indexed count)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notices": unread_count(user)}
