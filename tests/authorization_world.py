"""The world of the authorization matrix (docs/authorization_matrix.md): a province with two districts
and their wards, one signed-in test client per actor, and objects of every kind a URL names, one inside
and one outside the scoped actors' subtree.

Inside is the ward of Tân Phong (in the district of Biên Hòa, where the district leader, the ward leader,
the officer and the disabled and contained officers work); outside is the ward of Xuân An (in the
district of Long Khánh). Objects that belong to no unit (a holiday, a recertification campaign, the
deadline rules, a seal verification) are the same object on both sides.

A URL kwarg names its kind in the table (tests/authorization_table.py); a new kind is one entry in
KINDS below: a function of (world, side) that returns the object (its pk goes in the URL) or a plain
value (a file format, a list name)."""
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from accounts.choices import Role

from .factories import UserFactory, dong_nai_units
from .helpers import login, pdf_bytes

ACTORS = ("it_admin", "inspector", "leader_district", "leader_ward", "officer", "anonymous", "disabled", "contained")
SIDES = ("in", "out")


@dataclass
class World:
    units: dict
    accounts: dict          # every account by name: the actors and the accounts the objects belong to
    clients: dict           # one test client per actor, already signed in (anonymous: not)
    objects: dict = field(default_factory=dict)   # (kind, side) -> object or value

    def value(self, kind: str, side: str):
        """The object a URL kwarg of this kind points to (built once, by world_build)."""
        if (kind, side) not in self.objects:
            self.objects[kind, side] = KINDS[kind](self, side)
        return self.objects[kind, side]

    def unit(self, side):
        return self.units["tan_phong" if side == "in" else "xuan_an"]

    def subject(self, side):
        """The officer whom an object of that side is about (not one of the actors)."""
        return self.accounts["subject_in" if side == "in" else "subject_out"]

    def outside_names(self):
        """What only a page of the outside may show: its accounts' usernames, its units' names and the
        names and numbers of the outside objects (the inside ones differ)."""
        return {"username": ["cb.xuanan", "ld.xuanan"],
                "unit": [self.units["xuan_an"].name, self.units["long_khanh"].name],
                "object": ["MT-out", "Một cửa out", "Hệ thống thủ công out", "573/TCT", "1/UBND-out", "2/UBND-out"]}

    def leader(self, side):
        return self.accounts["leader_ward" if side == "in" else "leader_out"]


def _pdf(name="van-ban.pdf"):
    return SimpleUploadedFile(name, pdf_bytes(), content_type="application/pdf")


def world_build() -> World:
    """The units, the accounts, the signed-in clients and every object of KINDS, on both sides."""
    from accounts.services import account_disable
    from incidents.services.containment import account_contain

    units = dong_nai_units()
    tan_phong, xuan_an = units["tan_phong"], units["xuan_an"]
    accounts = {
        "it_admin": UserFactory(username="qt.admin", role=Role.IT_ADMIN, unit=units["it_center"]),
        "inspector": UserFactory(username="tt.inspector", role=Role.INSPECTOR, unit=units["inspectorate"]),
        "leader_district": UserFactory(username="ld.bienhoa", role=Role.UNIT_LEADER, unit=units["bien_hoa"]),
        "leader_ward": UserFactory(username="ld.tanphong", role=Role.UNIT_LEADER, unit=tan_phong),
        "officer": UserFactory(username="cb.tanphong", role=Role.OFFICER, unit=tan_phong, can_lookup=True),
        "disabled": UserFactory(username="cb.danghi", role=Role.OFFICER, unit=tan_phong, can_lookup=True),
        "contained": UserFactory(username="cb.bikhoanh", role=Role.OFFICER, unit=tan_phong, can_lookup=True),
        "leader_out": UserFactory(username="ld.xuanan", role=Role.UNIT_LEADER, unit=xuan_an),
        "subject_in": UserFactory(username="cb.tanphong2", role=Role.OFFICER, unit=tan_phong, can_lookup=True),
        "subject_out": UserFactory(username="cb.xuanan", role=Role.OFFICER, unit=xuan_an, can_lookup=True),
    }
    admin = accounts["it_admin"]
    account_disable(actor=admin, account=accounts["disabled"], reason="Nghỉ hưu")
    account_contain(actor=admin, account=accounts["contained"], reason="Lộ mật khẩu")
    clients = {"anonymous": Client()}
    for actor in ACTORS:
        if actor != "anonymous":
            # The disabled and contained accounts hold a session made after the fact (one that escaped
            # the ending of sessions): the portal must still treat them as signed out.
            accounts[actor].refresh_from_db()
            clients[actor] = login(Client(), accounts[actor])
    world = World(units=units, accounts=accounts, clients=clients)
    # Every object now, in the module's transaction (one built later, inside a test, would be rolled
    # back with that test).
    for kind in KINDS:
        for side in SIDES:
            world.value(kind, side)
    return world


# ----- the kinds of objects the URLs name (one entry each) ---------------------------------------------

def _handover(world, side):
    from accounts.models import HandoverRecord

    account = world.subject(side)
    return HandoverRecord.objects.create(
        number=f"BG-{side}", account=account, reason="created", unit=account.unit, unit_name=account.unit.name,
        unit_code=account.unit.code, officer_name=account.full_name, username=account.username,
        issued_by_name="qt.admin")


def _turnover(world, side):
    from accounts.attachments import attachment_store
    from accounts.choices import TurnoverAction
    from accounts.models import TurnoverLine, TurnoverRequest

    unit, today = world.unit(side), timezone.localdate()
    stored = attachment_store(_pdf("cong-van.pdf"))
    request = TurnoverRequest.objects.create(
        unit=unit, unit_code=unit.code, unit_name=unit.name, letter_number=f"1/UBND-{side}", letter_date=today,
        issuing_unit_name=unit.name, signer_name="Nguyễn Văn An", signer_position="Chủ tịch", effective_date=today,
        created_by=world.leader(side), attachment_sha256=stored.sha256, attachment_name=stored.name,
        attachment_size=stored.size)
    TurnoverLine.objects.create(request=request, action=TurnoverAction.DISABLE, account=world.subject(side))
    return request


def _executed_turnover(world, side):
    """A request already executed (its printable record exists only then)."""
    from accounts.choices import TurnoverState
    from accounts.models import TurnoverRequest

    unit, today = world.unit(side), timezone.localdate()
    return TurnoverRequest.objects.create(
        unit=unit, unit_code=unit.code, unit_name=unit.name, letter_number=f"2/UBND-{side}", letter_date=today,
        issuing_unit_name=unit.name, signer_name="Nguyễn Văn An", signer_position="Chủ tịch", effective_date=today,
        created_by=world.leader(side), state=TurnoverState.EXECUTED, executed_at=timezone.now())


def _turnover_line(world, side):
    return world.value("turnover", side).lines.get()


def _holiday(world, side):
    from accounts.models import Holiday

    return Holiday.objects.get_or_create(date=timezone.localdate() + timedelta(days=40), defaults={"name": "Nghỉ bù"})[0]


def _roster_import(world, side):
    from accounts.models import RosterImport

    return RosterImport.objects.create(uploaded_by=world.leader(side), file_name="danh-sach.csv", sha256="0" * 64,
                                       state=RosterImport.State.DONE)


def _campaign(world, side):
    from accounts.models import RecertificationCampaign

    now = timezone.now()
    return RecertificationCampaign.objects.get_or_create(
        name="2026/2", defaults={"started_at": now - timedelta(days=2), "deadline": now + timedelta(days=20),
                                 "started_by_name": "qt.admin"})[0]


def _recertification_item(world, side):
    from accounts.models import RecertificationItem

    account = world.subject(side)
    return RecertificationItem.objects.create(campaign=world.value("campaign", side), account=account,
                                              unit=account.unit, reviewer_unit=account.unit, role=account.role,
                                              can_lookup=account.can_lookup)


def _lookup(world, side):
    from lookups.models import LookupRecord

    account = world.subject(side)
    return LookupRecord.objects.create(officer=account, officer_username=account.username,
                                       unit_id_then=account.unit_id, unit_code_then=account.unit.code,
                                       decision="allow", citizen_id_masked="075*****1234")


def _anomaly_flag(world, side):
    from lookups.models import AnomalyFlag

    record, account = world.value("lookup", side), world.subject(side)
    return AnomalyFlag.objects.create(lookup_id=record.pk, decided_at=record.decided_at, kind="outside_office_hours",
                                      officer=account, officer_username=account.username,
                                      unit_id_then=account.unit_id)


def _quota_override(world, side):
    from lookups.choices import QuotaWindow
    from lookups.models import QuotaOverride

    return QuotaOverride.objects.create(unit=world.unit(side), window=QuotaWindow.UNIT_DAY, limit=500)


def _api_client(world, side):
    from lookups.services import api_client_create
    from portal.actors import COMMAND_LINE

    return api_client_create(actor=COMMAND_LINE, name=f"Một cửa {side}", unit=world.unit(side))[0]


def _monthly_report(world, side):
    from compliance.models import MonthlyReport

    unit = world.unit(side)
    month = (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)
    return MonthlyReport.objects.create(month=month, unit=unit, unit_code=unit.code, unit_name=unit.name,
                                        unit_path=unit.path, figures={}, html="<p>Báo cáo</p>", pdf=pdf_bytes(),
                                        xlsx=b"")


def _export_job(world, side):
    from compliance.models import ExportJob

    return ExportJob.objects.create(requested_by=world.leader(side), list_name="accounts", file_format="csv",
                                    state=ExportJob.State.DONE, rows_total=1, rows_done=1, content=b"username\n",
                                    file_name="tai-khoan.csv", finished_at=timezone.now())


def _directive(world, side):
    from letter.services import directive_publish

    today = timezone.localdate()
    return directive_publish(
        actor=world.accounts["it_admin"], number=f"57{len(side)}/TCT", issued_on=today - timedelta(days=3),
        issuer="Tổ công tác Đề án 06", signer="Tổ trưởng", title="Quy định kết nối", summary="Đọc và tuân thủ.",
        audience_units=[world.unit(side)], audience_roles=[Role.OFFICER, Role.UNIT_LEADER],
        due_date=today + timedelta(days=10), attachment=_pdf())


def _endpoint(world, side):
    from letter.models import Endpoint

    return Endpoint.objects.create(asset_tag=f"MT-{side}", unit=world.unit(side))


def _endpoint_import(world, side):
    from letter.models import EndpointImport

    return EndpointImport.objects.create(file_name="may-tinh.csv", file_sha256="0" * 64,
                                         uploaded_by=world.leader(side))


def _inspection(world, side):
    from letter.services import inspection_record

    return inspection_record(actor=world.accounts["inspector"], unit=world.unit(side),
                             inspected_on=timezone.localdate(), team="Đoàn 1", scope="Điểm 1-5", evidence=_pdf())


def _fix(world, side):
    from letter.services import finding_add, fix_answer

    finding = finding_add(actor=world.accounts["inspector"], inspection=world.value("inspection", side), point=1,
                          severity="high", description="Dùng chung tài khoản", fix_description="Cấp riêng",
                          fix_owner="Trưởng phòng", fix_deadline=timezone.localdate() + timedelta(days=10))
    fix = finding.fixes.get()
    return fix_answer(actor=world.leader(side), fix=fix, answer="Đã cấp riêng", evidence=_pdf())


def _incident(world, side):
    from incidents.services.records import incident_report

    return incident_report(actor=world.subject(side), title="Lộ mật khẩu", category="password_leak",
                           discovered_at=timezone.now() - timedelta(hours=1), units=[world.unit(side)])


def _incident_evidence(world, side):
    from incidents.services.records import incident_evidence_add

    return incident_evidence_add(actor=world.accounts["it_admin"], incident=world.value("incident", side),
                                 uploaded=_pdf("bang-chung.pdf"))


def _lockout_event(world, side):
    from audit.choices import EventKind
    from audit.services import audit_event_record

    return audit_event_record(kind=EventKind.LOCKOUT, actor=world.subject(side), target=world.subject(side))


def _seal_verification(world, side):
    from audit.models import SealVerification

    now = timezone.now()
    return SealVerification.objects.get_or_create(actor_username="system:seal_job", first_problem="record 12 altered",
                                                  defaults={"started_at": now, "finished_at": now, "ok": False})[0]


def _rule_set(world, side):
    from incidents.models import DeadlineRuleSet

    return DeadlineRuleSet.objects.order_by("number").first()


def _rule(world, side):
    return world.value("rule_set", side).rules.order_by("pk").first()


def _system(world, side):
    from federation.services import system_register

    return system_register(actor=world.accounts["it_admin"], name=f"Một cửa {side}", unit=world.unit(side),
                           redirect_uris=[f"https://{side}.example.gov.vn/callback"])[0]


def _manual_system(world, side):
    from federation.services import system_register_target

    return system_register_target(actor=world.accounts["it_admin"], name=f"Hệ thống thủ công {side}",
                                  unit=world.unit(side), kind="manual")


def _manual_task(world, side):
    from federation.models import ManualTask

    now = timezone.now()
    return ManualTask.objects.create(system=world.value("manual_system", side), account=world.subject(side),
                                     action="deactivate", created_at=now, due_at=now + timedelta(days=1))


def _scim_system(world, side):
    from federation.services import system_register_target

    # A target nobody listens on (port 9): the pushes its registration queues fail and are retried.
    return system_register_target(actor=world.accounts["it_admin"], name=f"Hệ thống SCIM {side}",
                                  unit=world.unit(side), kind="scim", scim_url=f"https://127.0.0.1:9/{side}/scim/v2",
                                  scim_token="t" * 32, role_mapping={"officer": "Cán bộ"})


def _evidenced_manual_task(world, side):
    """A manual task closed with a screenshot as its evidence (the file the evidence download serves)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from federation.models import ManualTask
    from federation.services import manual_task_complete

    now = timezone.now()
    task = ManualTask.objects.create(system=world.value("manual_system", side), account=world.subject(side),
                                     action="reactivate", created_at=now, due_at=now + timedelta(days=1))
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    return manual_task_complete(actor=world.accounts["it_admin"], task=task, note="Đã làm trên hệ thống",
                                evidence=SimpleUploadedFile("man-hinh.png", png))


def _reconciliation(world, side):
    from federation.models import Reconciliation

    return Reconciliation.objects.create(system=world.value("manual_system", side), started_at=timezone.now())


KINDS = {
    "account": lambda world, side: world.subject(side),
    "unit": lambda world, side: world.unit(side),
    "handover": _handover,
    "turnover": _turnover,
    "turnover_line": _turnover_line,
    "executed_turnover": _executed_turnover,
    "holiday": _holiday,
    "roster_import": _roster_import,
    "campaign": _campaign,
    "recertification_item": _recertification_item,
    "lookup": _lookup,
    "anomaly_flag": _anomaly_flag,
    "quota_override": _quota_override,
    "api_client": _api_client,
    "monthly_report": _monthly_report,
    "export_job": _export_job,
    "directive": _directive,
    "endpoint": _endpoint,
    "endpoint_import": _endpoint_import,
    "inspection": _inspection,
    "fix": _fix,
    "incident": _incident,
    "incident_evidence": _incident_evidence,
    "lockout_event": _lockout_event,
    "seal_verification": _seal_verification,
    "rule_set": _rule_set,
    "rule": _rule,
    "system": _system,
    "manual_system": _manual_system,
    "manual_task": _manual_task,
    "reconciliation": _reconciliation,
    "scim_system": _scim_system,
    "evidenced_manual_task": _evidenced_manual_task,
}
