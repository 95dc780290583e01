"""Moved to accounts.forms.review: this alias keeps imports written before the move working; remove it
once nothing imports accounts.forms_review."""
from .forms.review import *  # noqa: F401, F403
