"""The Đồng Nai unit tree as the letter (2024) knew it: the province, its departments, the 2 cities
and 9 districts, a few wards and communes of each, and the IT Center. Codes follow the QCVN 102:2016
structure (level-2 units in the third group, level-3 units in the second); they are demo values,
except the province's 000.00.00.H19."""
import base64
import binascii
import secrets

from django.contrib.auth.password_validation import get_default_password_validators, validate_password
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.choices import EventKind
from audit.services import audit_event_record
from policy.selectors import second_factor_required
from policy.services import password_history_record
from policy.validators import MinimumAgeValidator
from portal.actors import SEED_DEMO

from .choices import PasswordChangeReason
from .models import RecoveryCode, Unit, User
from .services.units import unit_create, unit_rename

PROVINCE = ("000.00.00.H19", "UBND tỉnh Đồng Nai", "province")

DEPARTMENTS = [
    ("000.00.01.H19", "Văn phòng UBND tỉnh"),
    ("000.00.02.H19", "Sở Nội vụ"),
    ("000.00.03.H19", "Sở Tư pháp"),
    ("000.00.04.H19", "Sở Kế hoạch và Đầu tư"),
    ("000.00.05.H19", "Sở Tài chính"),
    ("000.00.06.H19", "Sở Công Thương"),
    ("000.00.07.H19", "Sở Nông nghiệp và Phát triển nông thôn"),
    ("000.00.08.H19", "Sở Giao thông vận tải"),
    ("000.00.09.H19", "Sở Xây dựng"),
    ("000.00.10.H19", "Sở Tài nguyên và Môi trường"),
    ("000.00.11.H19", "Sở Thông tin và Truyền thông"),
    ("000.00.12.H19", "Sở Lao động - Thương binh và Xã hội"),
    ("000.00.13.H19", "Sở Văn hóa, Thể thao và Du lịch"),
    ("000.00.14.H19", "Sở Khoa học và Công nghệ"),
    ("000.00.15.H19", "Sở Giáo dục và Đào tạo"),
    ("000.00.16.H19", "Sở Y tế"),
    ("000.00.17.H19", "Thanh tra tỉnh"),
    ("000.00.18.H19", "Ban Quản lý các Khu công nghiệp Đồng Nai"),
]

# Under the Department of Information and Communications (letter: it runs the System).
IT_CENTER = ("000.01.11.H19", "Trung tâm Công nghệ thông tin và Truyền thông", "000.00.11.H19")
# The letter's inspectors are the Department's (Thanh tra Sở, letter point 5), not the province's
# inspectorate (Thanh tra tỉnh, a department of its own above).
DEPARTMENT_INSPECTORATE = ("000.02.11.H19", "Thanh tra Sở Thông tin và Truyền thông", "000.00.11.H19")

# (code, name, kind, [(ward/commune name, kind), …])
DISTRICTS = [
    ("000.00.31.H19", "UBND thành phố Biên Hòa", "city", [
        ("UBND phường Tân Phong", "ward"), ("UBND phường Trảng Dài", "ward"), ("UBND phường Hố Nai", "ward"),
        ("UBND phường Tam Hiệp", "ward"), ("UBND phường Long Bình", "ward"), ("UBND xã Hóa An", "commune"),
    ]),
    ("000.00.32.H19", "UBND thành phố Long Khánh", "city", [
        ("UBND phường Xuân An", "ward"), ("UBND phường Xuân Bình", "ward"), ("UBND phường Bảo Vinh", "ward"),
        ("UBND xã Hàng Gòn", "commune"), ("UBND xã Bàu Trâm", "commune"),
    ]),
    ("000.00.33.H19", "UBND huyện Long Thành", "district", [
        ("UBND thị trấn Long Thành", "town"), ("UBND xã An Phước", "commune"), ("UBND xã Bình Sơn", "commune"),
        ("UBND xã Long Phước", "commune"),
    ]),
    ("000.00.34.H19", "UBND huyện Nhơn Trạch", "district", [
        ("UBND thị trấn Hiệp Phước", "town"), ("UBND xã Phú Hội", "commune"), ("UBND xã Long Tân", "commune"),
        ("UBND xã Đại Phước", "commune"),
    ]),
    ("000.00.35.H19", "UBND huyện Trảng Bom", "district", [
        ("UBND thị trấn Trảng Bom", "town"), ("UBND xã Bắc Sơn", "commune"), ("UBND xã Hố Nai 3", "commune"),
        ("UBND xã Sông Trầu", "commune"),
    ]),
    ("000.00.36.H19", "UBND huyện Thống Nhất", "district", [
        ("UBND thị trấn Dầu Giây", "town"), ("UBND xã Gia Kiệm", "commune"), ("UBND xã Hưng Lộc", "commune"),
    ]),
    ("000.00.37.H19", "UBND huyện Cẩm Mỹ", "district", [
        ("UBND xã Long Giao", "commune"), ("UBND xã Sông Ray", "commune"), ("UBND xã Xuân Đông", "commune"),
    ]),
    ("000.00.38.H19", "UBND huyện Xuân Lộc", "district", [
        ("UBND thị trấn Gia Ray", "town"), ("UBND xã Xuân Bắc", "commune"), ("UBND xã Suối Cát", "commune"),
        ("UBND xã Xuân Hưng", "commune"),
    ]),
    ("000.00.39.H19", "UBND huyện Định Quán", "district", [
        ("UBND thị trấn Định Quán", "town"), ("UBND xã La Ngà", "commune"), ("UBND xã Phú Lợi", "commune"),
    ]),
    ("000.00.40.H19", "UBND huyện Tân Phú", "district", [
        ("UBND thị trấn Tân Phú", "town"), ("UBND xã Nam Cát Tiên", "commune"), ("UBND xã Tà Lài", "commune"),
    ]),
    ("000.00.41.H19", "UBND huyện Vĩnh Cửu", "district", [
        ("UBND thị trấn Vĩnh An", "town"), ("UBND xã Trị An", "commune"), ("UBND xã Mã Đà", "commune"),
    ]),
]


def ward_code(district_code: str, index: int) -> str:
    """Level-3 code: the ward's number in the second group under its district's code."""
    _, _, district_group, province = district_code.split(".")
    return f"000.{index:02d}.{district_group}.{province}"


# Demo accounts (docs/architecture.md public contract): username, full name, role, unit code, may look up.
DEMO_ACCOUNTS = [
    ("demo.admin", "Nguyễn Văn Hùng", "it_admin", IT_CENTER[0], False),
    ("demo.inspector", "Trần Thị Mai", "inspector", DEPARTMENT_INSPECTORATE[0], False),
    ("demo.leader", "Lê Minh Tuấn", "unit_leader", "000.00.31.H19", False),
    ("demo.officer", "Phạm Thị Hương", "officer", ward_code("000.00.31.H19", 1), True),
]


def _unit_upsert(code, name, kind, parent):
    unit = Unit.objects.filter(code=code).first()
    if unit is None:
        return unit_create(actor=SEED_DEMO, code=code, name=name, kind=kind, parent=parent), True
    if unit.name != name:
        # A unit change carries its legal basis; the demo's own corrections cite a demo decision.
        today = timezone.localdate()
        unit_rename(actor=SEED_DEMO, unit=unit, name=name, basis_number="1/QĐ-DEMO", basis_date=today,
                    effective_date=today)
    return unit, False


def demo_units_seed() -> int:
    """Create what is missing of the demo tree; return how many units were created."""
    created = 0
    province, new = _unit_upsert(*PROVINCE, parent=None)
    created += new
    departments = {}
    for code, name in DEPARTMENTS:
        departments[code], new = _unit_upsert(code, name, "department", province)
        created += new
    _, new = _unit_upsert(IT_CENTER[0], IT_CENTER[1], "it_center", departments[IT_CENTER[2]])
    created += new
    _, new = _unit_upsert(DEPARTMENT_INSPECTORATE[0], DEPARTMENT_INSPECTORATE[1], "department",
                          departments[DEPARTMENT_INSPECTORATE[2]])
    created += new
    for code, name, kind, wards in DISTRICTS:
        district, new = _unit_upsert(code, name, kind, province)
        created += new
        for index, (ward_name, ward_kind) in enumerate(wards, start=1):
            _, new = _unit_upsert(ward_code(code, index), ward_name, ward_kind, district)
            created += new
    return created


def _demo_account(username, full_name, role, unit_code, can_lookup) -> tuple[User, bool]:
    account = User.objects.filter(username=username).first()
    if account is not None:
        return account, False
    # Only a new account is shaped here; an existing one keeps whatever the IT Center did to it
    # since (disabled, moved, another role), so that re-running the command hides nothing.
    return User(username=username, full_name=full_name, email=f"{username}@demo.dongnai.gov.vn",
                role=role, unit=Unit.objects.get(code=unit_code), can_lookup=can_lookup), True


def _gets_new_password(account, created: bool, password: str, reset_existing: bool) -> bool:
    return (created or reset_existing) and not (account.password and account.check_password(password))


# The minimum age is the owner's rule between their own changes, not a property of the password;
# an operator setting a password is not held back by it (as an IT Center reset is not).
_OWNER_ONLY_VALIDATORS = (MinimumAgeValidator,)


def demo_password_problems(*, password: str, reset_existing: bool) -> list[str]:
    """The whole policy applied to `password` for every demo account that would get it (its own
    minimum length, history and similarity to its own details): one line per refusal, [] when none.
    Needs the demo units (for the unit names the password must not resemble)."""
    validators = [validator for validator in get_default_password_validators()
                  if not isinstance(validator, _OWNER_ONLY_VALIDATORS)]
    problems = []
    for row in DEMO_ACCOUNTS:
        account, created = _demo_account(*row)
        if not _gets_new_password(account, created, password, reset_existing):
            continue
        try:
            validate_password(password, user=account, password_validators=validators)
        except ValidationError as error:
            problems.extend(f"{account.username}: {message}" for message in error.messages)
    return problems


def demo_accounts_seed(*, password: str, reset_existing: bool, must_change: bool = False) -> list[tuple[str, bool]]:
    """Demo accounts with `password`, set by the operator. New accounts get it; existing ones too when
    `reset_existing`, unless they already have it (so a second run with the same password changes
    nothing). Ready to use on a trial machine; with `must_change` (production) each must change it at
    its first sign-in. Returns (username, created) pairs."""
    results = []
    for row in DEMO_ACCOUNTS:
        username, _full_name, role, unit_code, _can_lookup = row
        account, created = _demo_account(*row)
        new_password = _gets_new_password(account, created, password, reset_existing)
        if new_password:
            account.set_password(password)
            account.password_changed_at = timezone.now()
            # The operator chose it, not the officer: it does not start the minimum age (policy.selectors).
            account.password_set_by_self = False
            account.password_change_reason = PasswordChangeReason.FORCED if must_change else PasswordChangeReason.NONE
            account.one_time_password_expires_at = None
        if created or new_password:
            account.save()
        if new_password:
            password_history_record(account)
        if created:
            audit_event_record(kind=EventKind.ACCOUNT_CREATED, actor=SEED_DEMO, target=account,
                               details={"new": {"role": role, "unit": unit_code}})
        elif new_password:
            audit_event_record(kind=EventKind.PASSWORD_RESET, actor=SEED_DEMO, target=account)
        results.append((username, created))
    return results


# ----- the demo accounts' second factor ------------------------------------------------------------------

TOTP_KEY_BYTES = 20  # 160 bits, what RFC 4226 recommends and authenticator apps expect


def totp_key_from_base32(text: str) -> bytes:
    """A key typed as base32 (case and spaces ignored, padding optional); ValueError when it is not
    one, or shorter than the 80 bits authenticator apps require."""
    cleaned = "".join(text.split()).upper().rstrip("=")
    try:
        key = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except (binascii.Error, ValueError) as error:
        raise ValueError("not base32 (letters A–Z and digits 2–7)") from error
    if len(key) < 10:
        raise ValueError("too short: at least 16 base32 characters (80 bits)")
    return key


def totp_key_as_base32(key: bytes) -> str:
    return base64.b32encode(key).decode().rstrip("=")


def demo_second_factor_seed(*, key: bytes | None) -> tuple[bytes | None, list[str]]:
    """A confirmed TOTP device for each demo account whose role needs a second factor (docs/architecture.md: so
    that `make run` stays ready to use). With `key`, every such account gets that key (scripts can then
    compute codes); without, accounts that already have a device keep it, and the others get one newly
    generated key. Returns (the key given to an account now, or None; the usernames that got it)."""
    new_key = key
    enrolled = []
    for row in DEMO_ACCOUNTS:
        account = User.objects.get(username=row[0])
        if not second_factor_required(account):
            continue
        existing = TOTPDevice.objects.filter(user=account, confirmed=True).first()
        if existing is not None and (key is None or existing.bin_key == key):
            continue
        if new_key is None:
            new_key = secrets.token_bytes(TOTP_KEY_BYTES)
        TOTPDevice.objects.filter(user=account).delete()
        RecoveryCode.objects.filter(account=account).delete()
        TOTPDevice.objects.create(user=account, name="TOTP", confirmed=True, key=new_key.hex())
        audit_event_record(kind=EventKind.SECOND_FACTOR_ENROLLED, actor=SEED_DEMO, target=account)
        enrolled.append(account.username)
    return (new_key if enrolled else None), enrolled


def demo_otpauth_uri(username: str) -> str:
    device = TOTPDevice.objects.filter(user__username=username, confirmed=True).first()
    return device.config_url if device is not None else ""
