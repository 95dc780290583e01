"""Reading the endpoint-protection register (letter point 4) from CSV or XLSX: the roster's reader
(accounts.roster_file.table_read) and its line-by-line report. Nothing is read from a file with a problem.

Columns (Vietnamese or English headers, any order, any case, accents optional; GLPI's export headers
for computers and their antivirus are understood too): asset tag and unit code — required — then
computer name, user, operating system and version, update state, anti-malware product, version and
signature date, centrally managed, monitoring-centre agent, sharing, last checked. Dates as dd/mm/yyyy
(or the ISO form a spreadsheet cell gives); yes/no as có/không, x, 1/0, yes/no."""
import re
from dataclasses import dataclass, field
from datetime import date

from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from accounts.roster_file import FORMULA_START, cell_key, table_read

from .choices import UpdateState

MAX_ROWS = 20_000
MAX_FILE_BYTES = 8 * 1024 * 1024

COLUMNS = {
    "asset_tag": ("ma tai san", "so hieu tai san", "ma so tai san", "asset tag", "asset_tag", "inventory number",
                  "otherserial", "so kiem ke"),
    "unit_code": ("ma don vi", "ma dinh danh", "unit code", "unit_code"),
    "hostname": ("ten may", "ten may tinh", "computer name", "hostname", "name", "ten"),
    "user_name": ("nguoi su dung", "nguoi dung", "user", "users", "can bo su dung"),
    "os_name": ("he dieu hanh", "operating system", "operating system - name", "os"),
    "os_version": ("phien ban he dieu hanh", "os version", "operating system - version"),
    "update_state": ("cap nhat", "tinh trang cap nhat", "cap nhat he dieu hanh", "update state", "updates"),
    "antimalware_product": ("phan mem phong chong ma doc", "phan mem diet virus", "phong chong ma doc", "antivirus",
                            "anti-malware", "anti-malware product", "antivirus - name"),
    "antimalware_version": ("phien ban phan mem phong chong ma doc", "phien ban phong chong ma doc",
                            "anti-malware version", "antivirus - version", "antivirus version"),
    "signature_date": ("ngay cap nhat mau", "ngay cap nhat co so du lieu ma doc", "ngay cap nhat csdl",
                       "signature date", "antivirus - signature date"),
    "centrally_managed": ("quan ly tap trung", "centrally managed", "antivirus - centrally managed"),
    "monitoring_agent": ("agent giam sat", "cai dat agent giam sat", "monitoring agent"),
    "monitoring_sharing": ("chia se thong tin", "chia se voi trung tam giam sat", "chia se thong tin giam sat",
                           "monitoring sharing", "sharing"),
    "last_checked": ("ngay kiem tra", "kiem tra lan cuoi", "last checked", "last inventory update", "last update"),
}
REQUIRED = ("asset_tag", "unit_code")
GLPI_HEADERS = {"inventory number", "otherserial", "operating system - name", "antivirus - name"}
YES = {"co", "x", "1", "yes", "true", "da", "da cai", "da cai dat", "dang chia se"}
NO = {"khong", "0", "no", "false", "chua", "chua cai", "chua cai dat", ""}
UPDATE_STATES = {
    "da cap nhat": UpdateState.UP_TO_DATE, "day du": UpdateState.UP_TO_DATE, "up to date": UpdateState.UP_TO_DATE,
    "co": UpdateState.UP_TO_DATE, "yes": UpdateState.UP_TO_DATE,
    "chua cap nhat": UpdateState.OUTDATED, "thieu": UpdateState.OUTDATED, "outdated": UpdateState.OUTDATED,
    "khong": UpdateState.OUTDATED, "no": UpdateState.OUTDATED,
    "": UpdateState.UNKNOWN, "khong ro": UpdateState.UNKNOWN, "unknown": UpdateState.UNKNOWN,
}
_DATE_DMY = re.compile(r"\A(\d{1,2})/(\d{1,2})/(\d{4})\Z")
_DATE_ISO = re.compile(r"\A(\d{4})-(\d{2})-(\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2})?)?\Z")
ASSET_TAG = re.compile(r"\A[0-9A-Za-z][0-9A-Za-z._/-]{0,63}\Z")


@dataclass
class RegisterFile:
    rows: list[dict] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, message); line 0 = the file
    glpi: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


def date_read(text: str) -> date | None:
    """dd/mm/yyyy (what people type) or yyyy-mm-dd (what an XLSX date cell reads as); None when blank;
    ValueError when neither or not a real day."""
    text = text.strip()
    if not text:
        return None
    match = _DATE_DMY.match(text)
    if match:
        day, month, year = (int(part) for part in match.groups())
    else:
        match = _DATE_ISO.match(text)
        if not match:
            raise ValueError(text)
        year, month, day = (int(part) for part in match.groups())
    return date(year, month, day)


def register_read(data: bytes, file_name: str, known_unit_codes) -> RegisterFile:
    """Parse and check the whole file; `known_unit_codes(codes) -> set` says which unit codes exist within
    the uploader's scope, asked once for the whole file."""
    result = RegisterFile()
    if len(data) > MAX_FILE_BYTES:
        result.problems.append((0, _("The file is larger than 8 MB.")))
        return result
    try:
        table = table_read(data, file_name, result.problems)
    except ValueError as error:
        result.problems.append((0, str(error)))
        return result
    if not table:
        result.problems.append((0, _("The file is empty.")))
        return result
    if len(table) - 1 > MAX_ROWS:
        result.problems.append((0, _("The file has more than %(max)d rows; split it by unit.") % {"max": MAX_ROWS}))
        return result
    columns = _columns(table[0], result)
    if columns is None:
        return result
    rows = _rows(table[1:], columns, result)
    known = known_unit_codes({row["unit_code"] for row in rows})
    seen = {}
    for row in rows:
        if row["unit_code"] not in known:
            result.problems.append((row["line"], _("Unknown unit code %(code)s (or a unit outside your scope).") % {
                "code": row["unit_code"]}))
        key = row["asset_tag"].upper()
        if key in seen:
            result.problems.append((row["line"], _("Asset tag %(tag)s is also on line %(line)d.") % {
                "tag": row["asset_tag"], "line": seen[key]}))
        else:
            seen[key] = row["line"]
    # One entry per line, its problems in the order found, so that a person fixes a line once.
    by_line = {}
    for line, message in result.problems:
        by_line.setdefault(line, []).append(str(message))
    result.problems = [(line, " ".join(messages)) for line, messages in sorted(by_line.items())]
    if result.ok:
        result.rows = [row for row in rows if not row.pop("invalid", False)]
    return result


def _columns(header, result) -> dict | None:
    found = {}
    for index, title in enumerate(header):
        key = cell_key(title)
        if key in GLPI_HEADERS:
            result.glpi = True
        for name, aliases in COLUMNS.items():
            if key in aliases and name not in found:
                found[name] = index
    missing = [name for name in REQUIRED if name not in found]
    if missing:
        labels = {"asset_tag": _("asset tag"), "unit_code": _("unit code")}
        result.problems.append((1, _("Missing columns: %(columns)s. The first row must name the columns (Mã tài "
                                     "sản, Mã đơn vị, Tên máy, Người sử dụng, …).") % {
            "columns": ", ".join(str(labels[name]) for name in missing)}))
        return None
    return found


def _yes_no(text: str):
    key = cell_key(text)
    if key in YES:
        return True
    if key in NO:
        return False
    raise ValueError(text)


def _rows(body, columns, result) -> list[dict]:
    today = timezone.localdate()
    rows = []
    labels = {"signature_date": _("signature date"), "last_checked": _("last checked"),
              "centrally_managed": _("centrally managed"), "monitoring_agent": _("monitoring-centre agent"),
              "monitoring_sharing": _("sharing with the monitoring centre"), "update_state": _("updates")}
    for line, cells in enumerate(body, start=2):
        def cell(name, cells=cells):
            index = columns.get(name)
            return str(cells[index]).strip() if index is not None and index < len(cells) else ""

        values = {name: cell(name) for name in COLUMNS}
        if any(value.startswith(FORMULA_START) for value in values.values()):
            result.problems.append((line, _("A cell starts with = + - or @ (a formula); enter plain values.")))
            continue
        if not values["asset_tag"] or not values["unit_code"]:
            result.problems.append((line, _("The asset tag and the unit code are required.")))
            continue
        if not ASSET_TAG.match(values["asset_tag"]):
            result.problems.append((line, _("The asset tag “%(tag)s” may hold only letters, digits and . _ / -.") % {
                "tag": values["asset_tag"][:40]}))
            continue
        row = {"line": line, "asset_tag": values["asset_tag"], "unit_code": values["unit_code"].upper()}
        for name in ("hostname", "user_name", "os_name", "os_version", "antimalware_product", "antimalware_version"):
            row[name] = values[name][:150 if name == "user_name" else 100]
        problems = []
        for name in ("signature_date", "last_checked"):
            try:
                row[name] = date_read(values[name])
            except ValueError:
                problems.append(_("%(column)s “%(value)s” is not a date written dd/mm/yyyy.") % {
                    "column": capfirst(labels[name]), "value": values[name][:20]})
                continue
            if row[name] is not None and row[name] > today:
                problems.append(_("%(column)s %(value)s is in the future.") % {
                    "column": capfirst(labels[name]), "value": row[name].strftime("%d/%m/%Y")})
        for name in ("centrally_managed", "monitoring_agent", "monitoring_sharing"):
            try:
                row[name] = _yes_no(values[name])
            except ValueError:
                problems.append(_("%(column)s: write có or không, not “%(value)s”.") % {
                    "column": capfirst(labels[name]), "value": values[name][:20]})
        state = UPDATE_STATES.get(cell_key(values["update_state"]))
        if state is None:
            problems.append(_("%(column)s: write đã cập nhật, chưa cập nhật or không rõ, not “%(value)s”.") % {
                "column": capfirst(labels["update_state"]), "value": values["update_state"][:20]})
        row["update_state"] = state
        if problems:
            # Kept for the file's checks (unit, duplicates) so every problem of the line is reported at once.
            result.problems.append((line, " ".join(str(problem) for problem in problems)))
            row["invalid"] = True
        rows.append(row)
    return rows

