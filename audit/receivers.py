"""Hooks into Django's and django-axes' login signals; each hands over to a service at once."""
from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts import services


@receiver(user_logged_in)
def on_user_logged_in(sender, request, user, **kwargs):
    services.login_record_success(account=user, request=request)


@receiver(user_login_failed)
def on_user_login_failed(sender, credentials, request=None, **kwargs):
    services.login_record_failure(username=credentials.get("username", ""), request=request)


@receiver(user_locked_out)
def on_user_locked_out(sender, request, username=None, ip_address=None, **kwargs):
    services.lockout_record(username=username or "", request=request)


@receiver(user_logged_out)
def on_user_logged_out(sender, request, user, **kwargs):
    if user is not None:
        services.logout_record(account=user, request=request)
