"""The population registry a lookup reads once it is allowed, behind one small interface:
`RegistryAdapter.fetch(citizen_id) -> CitizenRecord`. `settings.LOOKUP_REGISTRY` names the class
(dotted path); `registry_adapter()` gives the configured one.

`SyntheticRegistry` is the default: no national endpoint is connected yet, so it answers a plausible
record computed from the ID alone (the same ID always gives the same person). The birth year and
gender are the ID's own (Circular 07/2016/TT-BCA: the fourth digit says gender and century, the fifth
and sixth the year's last digits); the name, the day of birth and the address come from an
unkeyed SHA-256 of the ID, so nothing real is ever shown. It expects an ID that lookups.validation accepted.
"""
import hashlib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

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


class RegistryAdapter:
    """One registry. `fetch` is called only after lookup_decide allowed the lookup."""

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


@lru_cache(maxsize=4)
def _adapter_class(path: str) -> type[RegistryAdapter]:
    return import_string(path)


def registry_adapter() -> RegistryAdapter:
    return _adapter_class(settings.LOOKUP_REGISTRY)()
