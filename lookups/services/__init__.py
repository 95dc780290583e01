"""What the lookups app does, one module per flow: the lookup decision (`decisions`: one flow for the
API and the officer's page, every decision recorded once), the registry's answer to an allowed lookup
(`answers`), the API clients and their tokens (`clients`), the quota overrides the IT Center sets
(`overrides`), the anomaly flags' job, review and alert (`flags`) and an officer's history export
(`history`). The quota engine itself is lookups.quotas."""
from .answers import REVEAL_WINDOW, lookup_answer, lookup_reveal
from .clients import api_client_create, api_client_revoke
from .decisions import LookupDecision, Unavailable, citizen_id_hash, lookup_decide
from .flags import (
    ANOMALY_BATCH,
    REVIEW_NOTE_MAX,
    anomaly_flag_review,
    anomaly_flags_mark_alerted,
    anomaly_flags_process,
)
from .history import EXPORT_FORMATS, HistoryExport, lookup_history_export
from .overrides import LIMIT_MAX, OFFICER_WINDOWS, quota_override_clear, quota_override_set

__all__ = [
    "ANOMALY_BATCH", "EXPORT_FORMATS", "LIMIT_MAX", "OFFICER_WINDOWS", "REVEAL_WINDOW", "REVIEW_NOTE_MAX",
    "HistoryExport", "LookupDecision", "Unavailable", "anomaly_flag_review", "anomaly_flags_mark_alerted",
    "anomaly_flags_process", "api_client_create", "api_client_revoke", "citizen_id_hash", "lookup_answer",
    "lookup_decide", "lookup_history_export", "lookup_reveal", "quota_override_clear", "quota_override_set",
]
