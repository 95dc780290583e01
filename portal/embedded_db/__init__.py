"""Django's PostgreSQL backend for the trial's own server (portal/embedded.py): the server is started on
the first connection a process makes, so that commands which never touch the database (compilemessages,
check) start nothing."""
