from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LookupsConfig(AppConfig):
    name = "lookups"
    verbose_name = _("Citizen lookups")
    default_auto_field = "django.db.models.BigAutoField"
