"""Moved to accounts.models.turnover: this alias keeps imports written before the move working; remove it
once nothing imports accounts.turnover_models."""
from .models.turnover import *  # noqa: F401, F403
