"""The population registry a lookup reads once it is allowed, behind one small interface:
`RegistryAdapter.fetch(citizen_id) -> CitizenRecord`, raising `RegistryUnavailable` (a DomainError
with a Vietnamese message and the failure's kind) when no record can be given. `settings.LOOKUP_REGISTRY`
names the class (dotted path); `registry_adapter()` gives the configured one. lookups.services records
each failure beside the lookup (RegistryFailure) and answers the officer with the message.

`HttpRegistry` asks the national endpoint (settings.LOOKUP_REGISTRY_URL) over HTTP(S): it POSTs
`{"citizen_id": "…"}` as JSON — the number never goes into a URL, where access logs would keep it —
with a bearer token or HTTP Basic credentials, and reads a JSON object `{"full_name", "birth_date"
(YYYY-MM-DD), "gender" ("male" | "female"), "permanent_address"}` of at most 64 KB. Timeouts: one to
connect, one for the whole answer (a server that drips bytes is cut off at the deadline). Every
failure — timeout, unreachable, 5xx, 401/403, 404, an unreadable answer — is a RegistryUnavailable,
never an exception that would become a 500.

`SyntheticRegistry` is the default: no national endpoint is connected yet, so it answers a plausible
record computed from the ID alone (the same ID always gives the same person). The birth year and
gender are the ID's own (Circular 07/2016/TT-BCA: the fourth digit says gender and century, the fifth
and sixth the year's last digits); the name, the day of birth and the address come from an
unkeyed SHA-256 of the ID, so nothing real is ever shown. It expects an ID that lookups.validation accepted.
"""
import base64
import hashlib
import http.client
import json
import socket
import ssl
import time
import urllib.parse
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from portal.audit_context import current_audit_context
from portal.errors import DomainError

from .choices import RegistryFailureKind
from .validation import CENTURY_OF_DIGIT, PROVINCE_CODES


@dataclass(frozen=True)
class CitizenRecord:
    full_name: str
    birth_date: date
    gender: str  # "male" or "female"
    permanent_address: str

    @property
    def gender_label(self) -> str:
        return _("Male") if self.gender == "male" else _("Female")

    def masked(self) -> "MaskedCitizenRecord":
        """What the page shows until the officer asks for more: the name's initials, the birth year,
        the address's last part (the province) only."""
        initials = " ".join(f"{word[0]}." for word in self.full_name.split())
        parts = [part.strip() for part in self.permanent_address.split(",")]
        address = ", ".join(["***"] * (len(parts) - 1) + parts[-1:])
        return MaskedCitizenRecord(initials=initials, birth_year=self.birth_date.year, address=address)


@dataclass(frozen=True)
class MaskedCitizenRecord:
    initials: str
    birth_year: int
    address: str


class RegistryUnavailable(DomainError):
    """No record from the registry for an allowed lookup: HTTP 503 where an interface answers with a
    status. `kind` is a RegistryFailureKind; `status_code` the registry's HTTP status when it gave one;
    `detail` a short technical note for the record (never the citizen ID nor the registry's body)."""

    status = 503
    default_code = "registry_unavailable"

    def __init__(self, kind: str, *, status_code: int | None = None, detail: str = ""):
        super().__init__(_registry_message(kind), code=f"registry_{kind}")
        self.kind = kind
        self.status_code = status_code
        self.detail = detail[:200]


def _registry_message(kind: str) -> str:
    messages = {
        RegistryFailureKind.TIMEOUT: _("The national population registry did not answer in time. The lookup is "
                                       "recorded; try again in a moment."),
        RegistryFailureKind.UNREACHABLE: _("The national population registry cannot be reached right now. The "
                                           "lookup is recorded; try again in a moment or tell the IT Center."),
        RegistryFailureKind.SERVER_ERROR: _("The national population registry answered with an error. The lookup "
                                            "is recorded; try again in a moment."),
        RegistryFailureKind.REFUSED: _("The national population registry refused the portal's request. Tell the "
                                       "IT Center: its connection settings need checking."),
        RegistryFailureKind.NOT_FOUND: _("The national population registry has no citizen with this personal "
                                         "identification number."),
        RegistryFailureKind.BAD_ANSWER: _("The national population registry's answer could not be read. The lookup "
                                          "is recorded; tell the IT Center if this happens again."),
    }
    return messages.get(kind, messages[RegistryFailureKind.BAD_ANSWER])


class RegistryAdapter:
    """One registry. `fetch` is called only after lookup_decide allowed the lookup; it returns the
    citizen's record or raises RegistryUnavailable."""

    def fetch(self, citizen_id: str) -> CitizenRecord:
        raise NotImplementedError


SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ",
            "Ngô", "Dương", "Lý")
MIDDLE_NAMES = {"male": ("Văn", "Hữu", "Đức", "Minh", "Quốc", "Thanh", "Công", "Gia"),
                "female": ("Thị", "Ngọc", "Thu", "Thanh", "Kim", "Bảo", "Mỹ", "Phương")}
GIVEN_NAMES = {"male": ("An", "Bình", "Cường", "Dũng", "Hùng", "Khánh", "Long", "Nam", "Phúc", "Quang", "Sơn",
                        "Tài", "Thắng", "Trung", "Tuấn", "Việt"),
               "female": ("Anh", "Châu", "Dung", "Hà", "Hạnh", "Hoa", "Hương", "Lan", "Linh", "Mai", "Ngân",
                          "Nhung", "Oanh", "Phượng", "Thảo", "Yến")}
STREETS = ("Lê Lợi", "Trần Hưng Đạo", "Nguyễn Trãi", "Hai Bà Trưng", "Quang Trung", "Lý Thường Kiệt",
           "Phan Chu Trinh", "Võ Thị Sáu", "Cách Mạng Tháng Tám", "Nguyễn Du")
HAMLETS = ("Khu phố 1", "Khu phố 2", "Khu phố 3", "Ấp 1", "Ấp 2", "Tổ 5")
WARDS = ("phường 1", "phường 2", "phường 3", "xã Tân Hòa", "xã An Phước", "thị trấn Long Thành")
CITIES = {"Hà Nội", "Hải Phòng", "Đà Nẵng", "Hồ Chí Minh", "Cần Thơ"}


class SyntheticRegistry(RegistryAdapter):
    """Deterministic, plausible, invented: for development, trials and tests."""

    def fetch(self, citizen_id: str) -> CitizenRecord:
        digest = hashlib.sha256(citizen_id.encode()).digest()
        century_digit = int(citizen_id[3])
        gender = "male" if century_digit % 2 == 0 else "female"
        year = CENTURY_OF_DIGIT.get(citizen_id[3], 1900) + int(citizen_id[4:6])
        day_of_year = int.from_bytes(digest[0:2], "big") % 365
        birth_date = date.fromordinal(date(year, 1, 1).toordinal() + day_of_year)
        if birth_date > timezone.localdate():  # born this year: not after today
            birth_date = date(year, 1, 1)
        name = " ".join((SURNAMES[digest[2] % len(SURNAMES)], MIDDLE_NAMES[gender][digest[3] % 8],
                         GIVEN_NAMES[gender][digest[4] % 16]))
        province = PROVINCE_CODES.get(citizen_id[:3], "Đồng Nai")
        province = f"thành phố {province}" if province in CITIES else f"tỉnh {province}"
        address = ", ".join((f"Số {digest[5] % 200 + 1} đường {STREETS[digest[6] % len(STREETS)]}",
                             HAMLETS[digest[7] % len(HAMLETS)], WARDS[digest[8] % len(WARDS)], province))
        return CitizenRecord(full_name=name, birth_date=birth_date, gender=gender, permanent_address=address)


ANSWER_MAX_BYTES = 64 * 1024


class HttpRegistry(RegistryAdapter):
    """The national population registry over HTTP(S) (module docstring; settings LOOKUP_REGISTRY_*)."""

    def __init__(self):
        self.url = urllib.parse.urlsplit(settings.LOOKUP_REGISTRY_URL)
        self.connect_timeout = settings.LOOKUP_REGISTRY_CONNECT_TIMEOUT
        self.timeout = settings.LOOKUP_REGISTRY_TIMEOUT

    def _headers(self, body: bytes) -> dict:
        headers = {"Content-Type": "application/json", "Accept": "application/json",
                   "Content-Length": str(len(body)), "User-Agent": "cong-an-toan-tai-khoan/1"}
        request_id = current_audit_context().request_id
        if request_id:
            headers["X-Request-ID"] = request_id
        if settings.LOOKUP_REGISTRY_TOKEN:
            headers["Authorization"] = f"Bearer {settings.LOOKUP_REGISTRY_TOKEN}"
        elif settings.LOOKUP_REGISTRY_USERNAME:
            pair = f"{settings.LOOKUP_REGISTRY_USERNAME}:{settings.LOOKUP_REGISTRY_PASSWORD}".encode()
            headers["Authorization"] = f"Basic {base64.b64encode(pair).decode('ascii')}"
        return headers

    def _connection(self) -> http.client.HTTPConnection:
        host, port = self.url.hostname, self.url.port
        if self.url.scheme == "https":
            return http.client.HTTPSConnection(host, port, timeout=self.connect_timeout,
                                               context=ssl.create_default_context())
        return http.client.HTTPConnection(host, port, timeout=self.connect_timeout)

    def _exchange(self, body: bytes) -> tuple[int, bytes]:
        """(status, at most ANSWER_MAX_BYTES + 1 bytes of the answer), within the deadline."""
        deadline = time.monotonic() + self.timeout
        connection = self._connection()
        try:
            connection.connect()
            sock = connection.sock  # kept: http.client lets go of it once an HTTP/1.0 answer has begun
            sock.settimeout(max(0.001, deadline - time.monotonic()))
            path = self.url.path or "/"
            if self.url.query:
                path = f"{path}?{self.url.query}"
            connection.request("POST", path, body=body, headers=self._headers(body))
            response = connection.getresponse()
            chunks, size = [], 0
            while size <= ANSWER_MAX_BYTES:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("the registry's answer took longer than the deadline")
                sock.settimeout(remaining)
                chunk = response.read1(16384) if hasattr(response, "read1") else response.read(16384)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            return response.status, b"".join(chunks)
        finally:
            connection.close()

    def fetch(self, citizen_id: str) -> CitizenRecord:
        body = json.dumps({"citizen_id": citizen_id}).encode()
        try:
            status, answer = self._exchange(body)
        except (TimeoutError, socket.timeout) as error:
            raise RegistryUnavailable(RegistryFailureKind.TIMEOUT, detail=type(error).__name__) from None
        except http.client.HTTPException as error:
            raise RegistryUnavailable(RegistryFailureKind.BAD_ANSWER, detail=type(error).__name__) from None
        except OSError as error:  # refused, reset, no route, DNS, TLS
            raise RegistryUnavailable(RegistryFailureKind.UNREACHABLE, detail=type(error).__name__) from None
        if status == 404:
            raise RegistryUnavailable(RegistryFailureKind.NOT_FOUND, status_code=status)
        if status in (401, 403):
            raise RegistryUnavailable(RegistryFailureKind.REFUSED, status_code=status)
        if status >= 500:
            raise RegistryUnavailable(RegistryFailureKind.SERVER_ERROR, status_code=status)
        if status != 200:
            raise RegistryUnavailable(RegistryFailureKind.BAD_ANSWER, status_code=status,
                                      detail=f"unexpected HTTP status {status}")
        return _citizen_record(answer)


def _citizen_record(answer: bytes) -> CitizenRecord:
    if len(answer) > ANSWER_MAX_BYTES:
        raise RegistryUnavailable(RegistryFailureKind.BAD_ANSWER, status_code=200, detail="answer too large")
    try:
        data = json.loads(answer)
        fields = {name: data[name] for name in ("full_name", "birth_date", "gender", "permanent_address")}
        if not all(isinstance(value, str) and value.strip() for value in fields.values()):
            raise ValueError("a field is empty or not text")
        if fields["gender"] not in ("male", "female"):
            raise ValueError("unknown gender")
        birth_date = date.fromisoformat(fields["birth_date"])
    except (ValueError, TypeError, KeyError) as error:  # JSONDecodeError and UnicodeDecodeError included
        raise RegistryUnavailable(RegistryFailureKind.BAD_ANSWER, status_code=200,
                                  detail=f"unreadable answer ({type(error).__name__})") from None
    return CitizenRecord(full_name=fields["full_name"].strip()[:150], birth_date=birth_date,
                         gender=fields["gender"], permanent_address=fields["permanent_address"].strip()[:300])


@lru_cache(maxsize=4)
def _adapter_class(path: str) -> type[RegistryAdapter]:
    return import_string(path)


def registry_adapter() -> RegistryAdapter:
    return _adapter_class(settings.LOOKUP_REGISTRY)()
