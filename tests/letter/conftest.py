"""Fixtures of the letter's tests: attachments stored in a temporary folder, and a directive of the
IT Center addressed to Biên Hòa's officers and leaders."""
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.choices import Role
from letter.services import directive_publish
from tests.helpers import pdf_bytes


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path


@pytest.fixture
def pdf_upload():
    def make(name="chi-thi.pdf"):
        return SimpleUploadedFile(name, pdf_bytes(), content_type="application/pdf")
    return make


@pytest.fixture
def directive(units, it_admin, pdf_upload):
    today = timezone.localdate()
    return directive_publish(
        actor=it_admin, number="5722/TCTTKĐA", issued_on=today - timedelta(days=3),
        issuer="Tổ công tác triển khai Đề án 06", signer="Tổ trưởng", title="Quy định kết nối CSDLQG về dân cư",
        summary="Đọc và tuân thủ quy định kết nối, chia sẻ, khai thác CSDLQG về dân cư.",
        audience_units=[units["bien_hoa"]], audience_roles=[Role.OFFICER, Role.UNIT_LEADER],
        due_date=today + timedelta(days=10), attachment=pdf_upload())
