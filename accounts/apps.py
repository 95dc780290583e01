from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts and units")

    def ready(self):
        # Infrastructure, not business: give SQLite (the single-machine trial) PostgreSQL's unaccent().
        from django.db.backends.signals import connection_created

        from .search import register_sqlite_unaccent

        connection_created.connect(register_sqlite_unaccent)
