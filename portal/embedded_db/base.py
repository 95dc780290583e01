"""ENGINE "portal.embedded_db": PostgreSQL's backend, its socket found (and the server started, when it
is not running) at the first connection."""
from django.db.backends.postgresql import base

from portal.embedded import trial_socket_directory


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self):
        params = super().get_connection_params()
        params["host"] = str(trial_socket_directory())
        return params
