from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PolicyConfig(AppConfig):
    name = "policy"
    verbose_name = _("Password policy")

    def audit_detail_labels(self):
        """How the audit log names the policy's fields in a "policy changed" event."""
        from .models import PasswordPolicy

        labels = {name: PasswordPolicy._meta.get_field(name).verbose_name for name in PasswordPolicy.EDITABLE_FIELDS}
        return labels, {}
