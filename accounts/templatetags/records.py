"""Printed records in the form of Decree 30/2020/NĐ-CP (appendix I): the place-and-date line."""
from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.documents import document_issuer as issuer_from_settings

register = template.Library()


@register.simple_tag
def document_issuer():
    """The issuing body and signer of the portal's documents (portal/documents.py: settings)."""
    return issuer_from_settings()


@register.filter
def document_date(moment):
    """“Đồng Nai, ngày 05 tháng 12 năm 2026”: days below 10 and months below 3 take a leading zero
    (Decree 30/2020/NĐ-CP, appendix I, part II, 4.b)."""
    if moment is None:
        return ""
    day = timezone.localdate(moment) if hasattr(moment, "tzinfo") and hasattr(moment, "hour") else moment
    return _("%(place)s, day %(day)s month %(month)s year %(year)s") % {
        "place": issuer_from_settings().place, "day": f"{day.day:02d}", "month": f"{day.month:02d}" if day.month < 3 else str(day.month),
        "year": day.year}
