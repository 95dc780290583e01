"""Moved to accounts.models.recertification: this alias keeps imports written before the move working; remove it
once nothing imports accounts.recertification_models."""
from .models.recertification import *  # noqa: F401, F403
