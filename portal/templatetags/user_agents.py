"""A readable browser and system for a sign-in ("Chrome trên Windows"), instead of the raw user-agent
string an officer cannot read. A few patterns cover what offices use; anything else is "another
browser". The raw string stays in the audit record for the IT Center."""
import re

from django import template
from django.utils.translation import gettext as _

register = template.Library()

# The first that matches wins: Edge, Opera and Cốc Cốc also say "Chrome", Chrome also says "Safari".
BROWSERS = [(r"Edg(e|A|iOS)?/", "Microsoft Edge"), (r"OPR/|Opera", "Opera"), (r"coc_coc_browser", "Cốc Cốc"),
            (r"Firefox/|FxiOS/", "Firefox"), (r"Chrome/|CriOS/|Chromium/", "Chrome"),
            (r"Version/[\d.]+.*Safari/", "Safari")]
SYSTEMS = [(r"Windows", "Windows"), (r"Android", "Android"), (r"iPhone|iPad|iPod", "iOS"), (r"CrOS", "ChromeOS"),
           (r"Mac OS X|Macintosh", "macOS"), (r"Linux", "Linux")]


def _first(patterns, text):
    for pattern, name in patterns:
        if re.search(pattern, text):
            return name
    return ""


@register.filter
def browser_name(user_agent) -> str:
    text = str(user_agent or "")
    if not text:
        return "—"
    browser = _first(BROWSERS, text) or _("another browser")
    system = _first(SYSTEMS, text)
    if not system:
        return browser
    return _("%(browser)s on %(system)s") % {"browser": browser, "system": system}
