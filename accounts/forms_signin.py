"""Moved to accounts.forms.signin: this alias keeps imports written before the move working; remove it
once nothing imports accounts.forms_signin."""
from .forms.signin import *  # noqa: F401, F403
