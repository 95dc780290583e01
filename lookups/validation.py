"""What a lookup request must look like (pure: no database, no settings). Each rule refuses with a
PolicyViolation whose `code` is the API's `reason`.

Citizen ID (số định danh cá nhân, Decree 137/2015/NĐ-CP, Circular 07/2016/TT-BCA art. 7): 12 digits —
3 for the province where the citizen's birth was registered (the 63 codes of the circular's annex),
1 for gender and century, 2 for the last digits of the birth year, 6 random. The circular's table for
the fourth digit: 20th century (1900–1999) male 0 / female 1; 21st (2000–2099) 2 / 3; 22nd 4 / 5;
23rd 6 / 7; 24th 8 / 9. Every digit is in the table, but only a person born in the 20th or 21st
century can be looked up today, so 0–3 are accepted and 4–9 refused; a 21st-century birth year after
the current year is refused too. An old 9-digit identity card number (CMND) has its own reason: it is
a different identifier that the population database no longer takes as a key.

Dossier code (mã hồ sơ, the national one-stop form): `<agency code>-<yymmdd>-<4-digit sequence>`, e.g.
`000.00.32.H19-210708-0032`: the agency code of QCVN 102:2016 (NNN.NN.NN.HNN), the date the dossier
was received (a real date, not after today) and its sequence number that day (0001–9999).
"""
import re
from datetime import date

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from portal.errors import PolicyViolation
from portal.text import reject_control_characters

# Circular 07/2016/TT-BCA, annex: province codes of the citizen ID (before the 2025 mergers; the
# codes stay in the numbers already issued).
PROVINCE_CODES = {
    "001": "Hà Nội", "002": "Hà Giang", "004": "Cao Bằng", "006": "Bắc Kạn", "008": "Tuyên Quang",
    "010": "Lào Cai", "011": "Điện Biên", "012": "Lai Châu", "014": "Sơn La", "015": "Yên Bái",
    "017": "Hòa Bình", "019": "Thái Nguyên", "020": "Lạng Sơn", "022": "Quảng Ninh", "024": "Bắc Giang",
    "025": "Phú Thọ", "026": "Vĩnh Phúc", "027": "Bắc Ninh", "030": "Hải Dương", "031": "Hải Phòng",
    "033": "Hưng Yên", "034": "Thái Bình", "035": "Hà Nam", "036": "Nam Định", "037": "Ninh Bình",
    "038": "Thanh Hóa", "040": "Nghệ An", "042": "Hà Tĩnh", "044": "Quảng Bình", "045": "Quảng Trị",
    "046": "Thừa Thiên Huế", "048": "Đà Nẵng", "049": "Quảng Nam", "051": "Quảng Ngãi", "052": "Bình Định",
    "054": "Phú Yên", "056": "Khánh Hòa", "058": "Ninh Thuận", "060": "Bình Thuận", "062": "Kon Tum",
    "064": "Gia Lai", "066": "Đắk Lắk", "067": "Đắk Nông", "068": "Lâm Đồng", "070": "Bình Phước",
    "072": "Tây Ninh", "074": "Bình Dương", "075": "Đồng Nai", "077": "Bà Rịa - Vũng Tàu",
    "079": "Hồ Chí Minh", "080": "Long An", "082": "Tiền Giang", "083": "Bến Tre", "084": "Trà Vinh",
    "086": "Vĩnh Long", "087": "Đồng Tháp", "089": "An Giang", "091": "Kiên Giang", "092": "Cần Thơ",
    "093": "Hậu Giang", "094": "Sóc Trăng", "095": "Bạc Liêu", "096": "Cà Mau",
}
# The fourth digit: the century it says (0/1 → 1900, 2/3 → 2000); 4–9 (2100 on) cannot be born yet.
CENTURY_OF_DIGIT = {"0": 1900, "1": 1900, "2": 2000, "3": 2000}

PURPOSE_MAX_LENGTH = 300
# ASCII digits only ([0-9], not \d: Python's \d also takes "٣"); the API's OpenAPI document states it.
DOSSIER_PATTERN = re.compile(
    r"\A([0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2})-([0-9]{2})([0-9]{2})([0-9]{2})-([0-9]{4})\Z")
_DIGITS = re.compile(r"\A[0-9]+\Z")  # ASCII digits only (str.isdigit also takes "٣" and "³")


def citizen_id_checked(value: str, *, today: date) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PolicyViolation(_("Enter the citizen's 12-digit personal identification number."),
                              code="citizen_id_missing", field="citizen_id")
    value = value.strip()
    if _DIGITS.match(value) and len(value) == 9:
        raise PolicyViolation(_("An old 9-digit identity card number (CMND) is not accepted: enter the "
                                "citizen's 12-digit personal identification number."),
                              code="cmnd_not_accepted", field="citizen_id")
    if not _DIGITS.match(value) or len(value) != 12:
        raise PolicyViolation(_("A personal identification number has exactly 12 digits."),
                              code="citizen_id_malformed", field="citizen_id")
    if value[:3] not in PROVINCE_CODES:
        raise PolicyViolation(_("The first three digits of the personal identification number are not a "
                                "province code."), code="citizen_id_malformed", field="citizen_id")
    century = CENTURY_OF_DIGIT.get(value[3])
    if century is None or century + int(value[4:6]) > today.year:
        raise PolicyViolation(_("The gender and century digit or the birth year of the personal "
                                "identification number is not valid."), code="citizen_id_malformed",
                              field="citizen_id")
    return value


def dossier_code_checked(value: str, *, today: date) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PolicyViolation(_("Enter the code of the dossier this lookup serves."), code="dossier_missing",
                              field="dossier_code")
    value = value.strip()
    match = DOSSIER_PATTERN.match(value)
    received = None
    if match:
        _agency, yy, mm, dd, sequence = match.groups()
        try:
            received = date(2000 + int(yy), int(mm), int(dd))
        except ValueError:
            received = None
        if sequence == "0000":
            received = None
    if received is None or received > today:
        raise PolicyViolation(_("Enter a dossier code of the form <agency code>-<yymmdd>-<4-digit number>, "
                                "for example 000.00.32.H19-210708-0032."), code="dossier_malformed",
                              field="dossier_code")
    return value


def purpose_checked(value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PolicyViolation(_("Enter the purpose of this lookup."), code="purpose_missing", field="purpose")
    value = value.strip()
    if len(value) > PURPOSE_MAX_LENGTH:
        raise PolicyViolation(_("The purpose has at most %(max)d characters.") % {"max": PURPOSE_MAX_LENGTH},
                              code="purpose_malformed", field="purpose")
    try:
        reject_control_characters(value)
    except ValidationError as error:
        raise PolicyViolation(messages=error.messages, code="purpose_malformed", field="purpose") from None
    return value


def citizen_id_maskable(value) -> bool:
    """Is what was typed a number a record may show masked: 12 ASCII digits (a citizen ID, valid or
    not) or 9 (an old CMND)? Anything else — a control character, a letter, a lone surrogate — is kept
    only as its hash, so that nothing typed reaches the pages and the exports unchecked."""
    return isinstance(value, str) and bool(_DIGITS.match(value)) and len(value) in (9, 12)


def citizen_id_masked(value: str) -> str:
    """`075*******34`: the province code and the last two digits, what a record shows."""
    if len(value) <= 5:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 5) + value[-2:]


# ----- The same rules as JSON Schema patterns (the lookup API's OpenAPI document) -------------------------
# Each pattern accepts exactly what the function above accepts on the day given, so that a client (or a
# schema-driven tester) reading the document knows what will pass: ASCII classes only, understood alike
# by ECMA-262 (JSON Schema) and Python.

def _two_digits(low: int, high: int) -> str:
    """The numbers low..high (0–99) written with two digits, ten by ten: 1..31 → 0[1-9]|1[0-9]|2[0-9]|3[01]."""
    parts = []
    for tens in range(low // 10, high // 10 + 1):
        first, last = max(low, tens * 10) % 10, min(high, tens * 10 + 9) % 10
        parts.append(f"{tens}{first}" if first == last else f"{tens}[{first}-{last}]")
    return "(?:" + "|".join(parts) + ")"


_MONTH_DAYS = {1: 31, 2: 28, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}


def _month_days(year: int, month: int) -> int:
    leap = month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return _MONTH_DAYS[month] + (1 if leap else 0)


def _date_pattern(*, today: date) -> str:
    """yymmdd of a real date from 01/01/2000 to `today`."""
    def months(year: int, last_month: int, last_day: int | None) -> str:
        parts = []
        for month in range(1, last_month + 1):
            days = _month_days(year, month) if month < last_month or last_day is None else last_day
            parts.append(f"{month:02d}{_two_digits(1, days)}")
        return "(?:" + "|".join(parts) + ")"

    this_year = today.year - 2000
    past = {}  # the days of a year → the years before this one that have them
    for year in range(2000, today.year):
        past.setdefault(_month_days(year, 2), []).append(year - 2000)
    parts = [f"(?:{'|'.join(f'{yy:02d}' for yy in years)}){months(2000 + years[0], 12, None)}"
             for _february, years in sorted(past.items())]
    parts.append(f"{this_year:02d}{months(today.year, today.month, today.day)}")
    return "(?:" + "|".join(parts) + ")"


def citizen_id_pattern(*, today: date) -> str:
    """What `citizen_id_checked` accepts on `today`: a province code, a century digit 0–3, a birth year
    not after this one (for the 21st century), six more digits."""
    provinces = "|".join(sorted(PROVINCE_CODES))
    return f"^(?:{provinces})(?:[01][0-9]{{2}}|[23]{_two_digits(0, today.year - 2000)})[0-9]{{6}}$"


def dossier_code_pattern(*, today: date) -> str:
    """What `dossier_code_checked` accepts on `today`: the agency code, a real date not after today,
    a sequence number 0001–9999."""
    return (r"^[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}-" + _date_pattern(today=today)
            + r"-(?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})$")
