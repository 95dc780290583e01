"""Moved to accounts.forms.turnover: this alias keeps imports written before the move working; remove it
once nothing imports accounts.forms_turnover."""
from .forms.turnover import *  # noqa: F401, F403
