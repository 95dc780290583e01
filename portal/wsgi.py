import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

application = get_wsgi_application()

# The URLconf (and with it every view module and the lookup API's schemas) loaded now rather than by the
# first request; then everything loaded so far, which lives as long as the worker, is moved out of the
# garbage collector's generations: a collection walks only what requests allocate (gc.freeze, Python's
# documentation).
get_resolver().url_patterns  # noqa: B018
gc.freeze()
