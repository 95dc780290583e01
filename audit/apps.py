from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit")

    def ready(self):
        # Hook Django's and django-axes' login signals; the receivers hand over to services at once.
        from . import receivers  # noqa: F401
