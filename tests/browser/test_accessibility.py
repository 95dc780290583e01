"""Issue #24, accessibility: axe-core (vendored, tests/browser/vendor/axe-core) judges each role's main
pages in headless Chromium, at desktop width and at 390 px; a serious or critical violation fails the
role's test, which lists every one it met (rule, element, help page) before failing. Screenshots of each
page under artifacts/ (a11y-<role>-<page>-desktop.png, -390.png) for a person to look at.

A form page marked `sent_empty` is judged again after its form is sent as it is: the errors shown must
pass too, and each field marked invalid must name its error in its aria-describedby.

Each role is one test: the objects its pages show are made once, the role signs in once, and every page
of its list is opened at both sizes. A page added to the portal is one line in its role's list below:
`Page(<URL name>)`, or `Page(<URL name>, <key of the object in `world`>)` for a detail page."""
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.attachments import attachment_store
from accounts.choices import DepartureReason, Role, TurnoverAction
from accounts.services import turnover
from federation.choices import SystemKind
from federation.services import system_register_target
from incidents.services.records import incident_report
from letter.services import directive_publish, finding_add, inspection_record
from portal.actors import COMMAND_LINE
from tests.factories import UserFactory
from tests.helpers import oidc_system_register, pdf_bytes

from . import conftest
from .conftest import PHONE, VIEWPORT
from .test_turnover_journey import signed_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@dataclass(frozen=True)
class Page:
    url_name: str
    obj: str = ""  # the key in `world` of the object whose id the URL takes
    sent_empty: bool = False  # judged again after its form is sent empty, with the errors shown

    def path(self, world):
        return reverse(self.url_name, args=[world[self.obj].pk] if self.obj else [])

    @property
    def label(self):
        return self.url_name.replace(":", "-") + (f"-{self.obj}" if self.obj else "")


# What every role sees with its own content: its home page, the letter's points, incidents, turnover.
OWN = [Page("home"), Page("letter:home"), Page("letter:directive", "directive"), Page("incidents:list"),
       Page("incidents:detail", "incident"), Page("accounts:turnover_list")]
# The same for everyone but the menu: judged once, in the officer's list.
SHARED = [Page("help"), Page("sessions"), Page("password_change"), Page("notifications:list"),
          Page("notifications:preferences"), Page("letter:directives"), Page("incidents:report", sent_empty=True)]
# What those who oversee units read (the IT Center, the inspector, a district's leader).
OVERSIGHT = [Page("accounts:list"), Page("accounts:detail", "officer"), Page("accounts:unit_list"),
             Page("compliance:unit", "ward"), Page("compliance:unit_accounts", "ward"),
             Page("compliance:account", "officer"), Page("compliance:points"), Page("compliance:reports"),
             Page("lookups:log"), Page("lookups:anomalies"), Page("accounts:recertification"),
             Page("letter:endpoints"), Page("letter:inspections"), Page("letter:inspection", "inspection")]

PAGES = {
    "it_admin": OWN + OVERSIGHT + [
        Page("accounts:create", sent_empty=True), Page("accounts:edit", "officer"), Page("accounts:unit_create"),
        Page("accounts:turnover_detail", "turnover"), Page("accounts:holiday_list"), Page("accounts:roster"),
        Page("compliance:thresholds"), Page("policy:edit"), Page("audit:events"), Page("audit:seals"),
        Page("lookups:quotas"), Page("federation:registry"), Page("federation:system", "oidc"),
        Page("federation:system", "manual"), Page("federation:manual_tasks"), Page("notifications:failed"),
        Page("letter:directive_create"), Page("letter:endpoint_create"), Page("letter:endpoint_import"),
        Page("incidents:edit", "incident"), Page("incidents:rules"), Page("incidents:unit_containment", "ward")],
    # The oversight pages are the district leader's and the IT Center's templates: the inspector's own
    # view of them is the log, the flags and the inspections.
    "inspector": OWN + [Page("accounts:list"), Page("lookups:log"), Page("lookups:anomalies"),
                        Page("letter:inspections"), Page("letter:inspection", "inspection"),
                        Page("letter:inspection_create", sent_empty=True), Page("audit:events"),
                        Page("federation:registry"), Page("federation:system", "oidc")],
    "district_leader": OWN + OVERSIGHT + [Page("accounts:turnover_detail", "turnover"),
                                          Page("accounts:turnover_create", sent_empty=True)],
    "ward_leader": OWN + [Page("accounts:list"), Page("compliance:unit", "ward"), Page("accounts:roster")],
    "officer": OWN + SHARED + [Page("lookups:lookup", sent_empty=True)],
}
ANONYMOUS = [Page("login", sent_empty=True), Page("help")]


@pytest.fixture
def world(units, it_admin, inspector, leader_bien_hoa, officer_bien_hoa, settings, tmp_path):
    """The people of each role and one object of each kind their detail pages show."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    today = timezone.localdate()
    ward_leader = UserFactory(username="ld.tanphong", full_name="Ngô Thị Lan", role=Role.UNIT_LEADER,
                              unit=units["tan_phong"])
    UserFactory(username="cb.tanphong2", full_name="Đỗ Văn Lâm", role=Role.OFFICER, unit=units["tan_phong"])
    directive = directive_publish(
        actor=it_admin, number="5722/TCTTKĐA", issued_on=today - timedelta(days=3),
        issuer="Tổ công tác triển khai Đề án 06", signer="Tổ trưởng", title="Quy định kết nối CSDLQG về dân cư",
        summary="Đọc và tuân thủ quy định kết nối, chia sẻ, khai thác CSDLQG về dân cư.",
        audience_units=[units["bien_hoa"]], audience_roles=[Role.OFFICER, Role.UNIT_LEADER],
        due_date=today + timedelta(days=10),
        attachment=SimpleUploadedFile("chi-thi.pdf", pdf_bytes(), content_type="application/pdf"))
    inspection = inspection_record(actor=inspector, unit=units["tan_phong"], inspected_on=today - timedelta(days=2),
                                   team="Thanh tra Sở", scope="Quản lý tài khoản dùng chung")
    finding_add(actor=inspector, inspection=inspection, point=3, severity="high",
                description="Tài khoản của cán bộ đã nghỉ việc vẫn hoạt động.",
                fix_description="Khóa tài khoản của cán bộ đã nghỉ việc.", fix_owner="UBND phường Tân Phong",
                fix_deadline=today + timedelta(days=7))
    incident = incident_report(actor=officer_bien_hoa, title="Nghi lộ mật khẩu tài khoản một cửa",
                               category="password_leak", discovered_at=timezone.now() - timedelta(hours=2),
                               description="Mật khẩu được ghi trên giấy dán ở màn hình.", units=[units["tan_phong"]])
    request = turnover.turnover_request_create(
        actor=leader_bien_hoa, unit=units["bien_hoa"], letter_number="125/UBND-VP",
        letter_date=today - timedelta(days=1), effective_date=today, issuing_unit_name="UBND thành phố Biên Hòa",
        signer_name="Trần Văn Bình", signer_position="Chủ tịch",
        attachment=attachment_store(SimpleUploadedFile("cv-125.pdf", pdf_bytes(), content_type="application/pdf")),
        lines=[{"action": TurnoverAction.DISABLE, "account": officer_bien_hoa,
                "departure_reason": DepartureReason.LEFT}])
    oidc, _secret = oidc_system_register(units["bien_hoa"])
    manual = system_register_target(actor=COMMAND_LINE, name="Phần mềm kế toán", unit=units["bien_hoa"],
                                    kind=SystemKind.MANUAL)
    return {"it_admin": it_admin, "inspector": inspector, "district_leader": leader_bien_hoa,
            "ward_leader": ward_leader, "officer": officer_bien_hoa, "ward": units["tan_phong"],
            "directive": directive, "inspection": inspection, "incident": incident, "turnover": request,
            "oidc": oidc, "manual": manual}


def pages_judged(person, world, pages):
    """Every page at desktop width then at 390 px: the violations of all of them, and the pages that
    did not open (a page that redirects elsewhere or answers an error is not judged, so it is reported)."""
    problems = []
    page = person.page
    for entry in pages:
        path = entry.path(world)
        for size_name, size in (("desktop", VIEWPORT), ("390", PHONE)):
            page.set_viewport_size(size)
            response = page.goto(person.url(path))
            if response.status != 200 or not page.url.endswith(path):
                problems.append(f"{entry.label}: {path} answered {response.status} at {page.url}")
                break
            person.screenshot(f"{entry.label}-{size_name}")
            problems += person.accessibility_problems(f"{entry.label} at {size_name}")
            # A template comment or tag that leaked as text is read aloud too (a multi-line {# … #}).
            if page.evaluate("/[{][#%]|[#%][}]/.test(document.body.innerText)"):
                problems.append(f"{entry.label} at {size_name}: template syntax shown as text")
            if entry.sent_empty:
                problems += sent_empty(person, f"{entry.label}-sent-empty-{size_name}")
    page.set_viewport_size(VIEWPORT)
    return problems


# The fields marked invalid whose error is not tied to them: Django names `<id>_error` in the field's
# aria-describedby (BoundField.aria_describedby), so the element of that id must be on the page.
FIELDS_WITHOUT_THEIR_ERROR = """() => [...document.querySelectorAll("[aria-invalid=true]")]
  .filter(field => !(field.getAttribute("aria-describedby") || "").split(/\\s+/)
    .some(id => id.endsWith("_error") && document.getElementById(id)?.textContent.trim()))
  .map(field => field.name || field.id)"""


def sent_empty(person, name):
    """The page's form sent as it is: the refusal must name its fields, each error tied to its field,
    and the page with its errors must pass axe-core too."""
    page = person.page
    with page.expect_navigation():
        page.locator("main form[method=post] button[type=submit]").first.click()
    person.screenshot(name)
    problems = person.accessibility_problems(name)
    if page.locator("[aria-invalid=true]").count() == 0:
        problems.append(f"{name}: no field is marked invalid after the form was sent empty")
    unlinked = page.evaluate(FIELDS_WITHOUT_THEIR_ERROR)
    if unlinked:
        problems.append(f"{name}: fields whose error is not in their aria-describedby: {unlinked}")
    return problems


@pytest.mark.parametrize("role", list(PAGES))
def test_each_roles_main_pages_have_no_serious_accessibility_violation(journey, world, role):
    person = signed_in(journey(f"a11y-{role}"), world[role])
    problems = pages_judged(person, world, PAGES[role])
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
    person.assert_clean()


def test_the_sign_in_pages_have_no_serious_accessibility_violation(journey, world):
    person = journey("a11y-anonymous")
    problems = pages_judged(person, world, ANONYMOUS)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
    person.assert_clean()


def test_the_check_fails_a_page_with_an_unlabelled_field_and_an_image_without_text(journey):
    """The judge itself: a page with the two commonest faults is refused, each fault named."""
    person = journey("a11y-judge")
    person.page.set_content('<!DOCTYPE html><html lang="vi"><head><title>Thử</title></head><body><main>'
                            '<h1>Thử</h1><img src="/static/img/favicon.svg"><input name="citizen_id"></main>'
                            '</body></html>')
    problems = person.accessibility_problems("judge")
    assert [line.split(" at ")[0] for line in problems] == [
        "judge (about:blank): [critical] image-alt", "judge (about:blank): [critical] label"]
    assert "https://dequeuniversity.com/rules/axe/4.10/label" in problems[1]


def test_an_axe_file_changed_on_disk_is_refused_before_it_judges(tmp_path, monkeypatch):
    changed = tmp_path / "axe.min.js"
    changed.write_bytes(conftest.AXE.read_bytes().replace(b"axe v4.10.3", b"axe v4.10.4", 1))
    monkeypatch.setattr(conftest, "AXE", changed)
    conftest.axe_source.cache_clear()
    try:
        with pytest.raises(pytest.fail.Exception, match="is not axe-core 4.10.3 as vendored"):
            conftest.axe_source()
    finally:
        conftest.axe_source.cache_clear()
