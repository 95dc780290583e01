"""What the letter app does: every write of points 1, 4 and 5 (one module per workflow)."""
from .directives import (  # noqa: F401
    directive_acknowledge,
    directive_acknowledge_on_behalf,
    directive_publish,
    directive_reminders_send,
    directive_version_publish,
    unit_measure_state,
)
from .endpoints import endpoint_import, endpoint_save  # noqa: F401
from .inspections import finding_add, fix_answer, fix_close, inspection_record  # noqa: F401
