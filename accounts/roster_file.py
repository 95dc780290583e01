"""Reading a unit's staff roster (CSV or XLSX) for reconciliation with the accounts.

Columns (Vietnamese or English headers, any order, any case, accents optional): full name, unit code,
position, status — required — and e-mail, phone — optional. A bad file is reported line by line and
nothing is read from it: wrong or missing columns, a CSV that is not UTF-8, more rows than allowed,
formulas (a cell starting with = + - @, or an XLSX formula: they would run in the next spreadsheet that
opens an export), unknown unit codes, duplicated rows, statuses the portal does not know.

A workbook is a zip archive: before openpyxl opens it, its members' unpacked size and compression
ratio are checked (a 336 KB file can unpack to a row of millions of cells) and its sheets are scanned
as a stream for rows and cells beyond what a roster holds; only the first MAX_COLUMNS columns are read.
Control characters (a NUL, which PostgreSQL refuses) and bidirectional controls (which can make a name
display as another) are refused line by line.
"""
import csv
import io
import re
import zipfile
from dataclasses import dataclass, field

from defusedxml.ElementTree import iterparse
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from portal.text import fold

MAX_ROWS = 20_000
MAX_FILE_BYTES = 8 * 1024 * 1024
# A workbook: what its members may unpack to, in all and per member against its packed size; the cells a
# sheet row may hold (Excel's own limit) and a sheet in all; the columns read from each row.
MAX_XLSX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_XLSX_MEMBERS = 500
MAX_XLSX_RATIO = 100
RATIO_CHECKED_ABOVE_BYTES = 1024 * 1024
MAX_CELLS_PER_ROW = 16_384
MAX_CELLS = 1_000_000
MAX_COLUMNS = 30
# Characters no roster cell may hold: C0/C1 controls but tab (NUL breaks PostgreSQL) and the
# bidirectional controls (a name that displays as another: CVE-2021-42574's "Trojan Source").
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")

# Header aliases, compared folded (lower-case, no accents, single spaces).
COLUMNS = {
    "full_name": ("ho va ten", "ho ten", "full name", "full_name", "name"),
    "unit_code": ("ma dinh danh don vi", "ma don vi", "ma dinh danh", "unit code", "unit_code"),
    "position": ("chuc vu", "position"),
    "status": ("trang thai", "tinh trang", "status"),
    "email": ("email", "e-mail", "thu dien tu", "dia chi thu dien tu"),
    "phone": ("dien thoai", "so dien thoai", "phone"),
}
REQUIRED = ("full_name", "unit_code", "position", "status")

# Status words → "active", TRANSFERRED (moved to another unit of the province: a move, not a
# departure) or the departure reason (accounts.choices.DepartureReason) they mean. "Chuyển công tác"
# alone is a transfer within the province; leaving it is said "chuyển ra ngoài tỉnh".
TRANSFERRED = "transferred"
STATUSES = {
    "dang cong tac": "active", "cong tac": "active", "active": "active", "dang lam viec": "active",
    "da nghi viec": "left", "nghi viec": "left", "thoi viec": "left", "left": "left",
    "nghi huu": "retired", "da nghi huu": "retired", "retired": "retired",
    "chuyen cong tac": TRANSFERRED, "da chuyen cong tac": TRANSFERRED, "transferred": TRANSFERRED,
    "chuyen cong tac trong tinh": TRANSFERRED, "dieu chuyen": TRANSFERRED, "luan chuyen": TRANSFERRED,
    "chuyen ra ngoai tinh": "transferred_out", "chuyen cong tac ra ngoai tinh": "transferred_out",
    "chuyen cong tac ngoai tinh": "transferred_out", "chuyen ngoai tinh": "transferred_out",
    "transferred out": "transferred_out",
    "nghi dai han": "long_leave", "long leave": "long_leave",
}
FORMULA_START = ("=", "+", "-", "@")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class RosterRow:
    line: int
    full_name: str
    unit_code: str
    position: str
    status: str  # "active", TRANSFERRED or a DepartureReason value
    email: str = ""
    phone: str = ""


@dataclass
class RosterFile:
    rows: list[RosterRow] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, message); line 0 = the file

    @property
    def ok(self) -> bool:
        return not self.problems


def _key(text) -> str:
    return _SPACES.sub(" ", fold(str(text or "")).strip())


def phone_digits(phone: str) -> str:
    digits = re.sub(r"\D", "", phone or "")
    return "0" + digits[2:] if digits.startswith("84") and len(digits) >= 11 else digits


def _table_from_csv(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(_("The file is not UTF-8 text: in Excel choose “Save as → CSV UTF-8”, or upload the "
                           ".xlsx file itself.")) from error
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        return [row for row in csv.reader(io.StringIO(text), dialect)]
    except csv.Error as error:
        raise ValueError(_("The file is not a readable CSV table: save it again from Excel as “CSV UTF-8”.")) from error


def _xlsx_check(data: bytes) -> None:
    """Refuse a workbook whose members unpack to far more than a roster, or pack too well (a zip bomb),
    or whose sheets hold rows or cells beyond a roster's: before anything builds it in memory. The
    sizes in a zip's headers can lie; zipfile stops each member at its stated size (and fails its CRC),
    so the stated sizes bound what is read."""
    unreadable = _("The file is not a readable Excel workbook (.xlsx).")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ValueError(unreadable) from error
    too_large = _("The workbook unpacks to more than %(max)d MB: a roster is far smaller. Copy the roster's "
                  "columns into a new workbook and upload that.") % {"max": MAX_XLSX_UNPACKED_BYTES // (1024 * 1024)}
    if len(members) > MAX_XLSX_MEMBERS or sum(member.file_size for member in members) > MAX_XLSX_UNPACKED_BYTES:
        raise ValueError(too_large)
    for member in members:
        if (member.file_size > RATIO_CHECKED_ABOVE_BYTES
                and member.file_size > MAX_XLSX_RATIO * max(member.compress_size, 1)):
            raise ValueError(_("The workbook is packed more than %(ratio)d times smaller than its content, as "
                               "no roster is: it was refused unread.") % {"ratio": MAX_XLSX_RATIO})
    cells = 0
    try:
        for member in members:
            if not (member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml")):
                continue
            with archive.open(member) as stream:
                row_cells, rows = 0, 0
                for event, element in iterparse(stream, events=("start", "end")):
                    name = element.tag.rpartition("}")[2]
                    if event == "start" and name == "c":
                        row_cells += 1
                        cells += 1
                        if row_cells > MAX_CELLS_PER_ROW:
                            raise ValueError(_("Line %(line)d of the workbook holds more than %(max)d cells: "
                                               "no roster has so many columns.") % {
                                                   "line": rows + 1, "max": MAX_CELLS_PER_ROW})
                        if cells > MAX_CELLS:
                            raise ValueError(too_large)
                    elif event == "end" and name == "row":
                        rows, row_cells = rows + 1, 0
                        element.clear()
                        if rows > MAX_ROWS + 1:
                            break
    except (zipfile.BadZipFile, OSError, EOFError, SyntaxError) as error:  # ParseError is a SyntaxError
        raise ValueError(unreadable) from error
    except Exception as error:  # defusedxml's refusals (entities, DTDs) are not ValueErrors
        if error.__class__.__module__.startswith("defusedxml"):
            raise ValueError(unreadable) from error
        raise


def _table_from_xlsx(data: bytes, problems) -> list[list[str]]:
    _xlsx_check(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as error:
        raise ValueError(_("The file is not a readable Excel workbook (.xlsx).")) from error
    sheet = workbook.worksheets[0]
    table = []
    for line, row in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS), start=1):
        values = []
        for cell in row:
            if getattr(cell, "data_type", None) == "f":
                problems.append((line, _("Column %(column)s holds a formula; enter plain values.") % {
                    "column": getattr(cell, "column_letter", "?")}))
                values.append("")
                continue
            value = cell.value
            values.append("" if value is None else str(value))
        table.append(values)
        if line > MAX_ROWS + 1:
            break
    workbook.close()
    return table


def roster_read(data: bytes, file_name: str, known_unit_codes) -> RosterFile:
    """Parse and check the whole file; `known_unit_codes(codes) -> set` says which codes exist (and
    are within the uploader's scope), asked once for the whole file."""
    result = RosterFile()
    if len(data) > MAX_FILE_BYTES:
        result.problems.append((0, _("The file is larger than 8 MB.")))
        return result
    try:
        if file_name.lower().endswith(".xlsx"):
            table = _table_from_xlsx(data, result.problems)
        elif file_name.lower().endswith(".csv"):
            table = _table_from_csv(data)
        else:
            raise ValueError(_("Upload the roster as a .csv (UTF-8) or .xlsx file."))
    except ValueError as error:
        result.problems.append((0, str(error)))
        return result
    table = [row for row in table if any(str(cell).strip() for cell in row)]
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
    _check_units(rows, known_unit_codes, result)
    _check_duplicates(rows, result)
    result.problems.sort()
    if result.ok:
        result.rows = rows
    return result


def _columns(header, result) -> dict | None:
    found = {}
    for index, title in enumerate(header):
        key = _key(title)
        for name, aliases in COLUMNS.items():
            if key in aliases and name not in found:
                found[name] = index
    missing = [name for name in REQUIRED if name not in found]
    if missing:
        labels = {"full_name": _("full name"), "unit_code": _("unit code"), "position": _("position"),
                  "status": _("status")}
        result.problems.append((1, _("Missing columns: %(columns)s. The first row must name the columns "
                                     "(Họ và tên, Mã đơn vị, Chức vụ, Trạng thái, Email, Điện thoại).") % {
            "columns": ", ".join(str(labels[name]) for name in missing)}))
        return None
    return found


def _rows(body, columns, result) -> list[RosterRow]:
    rows = []
    for line, cells in enumerate(body, start=2):
        def cell(name, cells=cells):  # this row's cells, bound now (the closure is used in this iteration)
            index = columns.get(name)
            return str(cells[index]).strip() if index is not None and index < len(cells) else ""

        values = {name: cell(name) for name in COLUMNS}
        if any(_CONTROL.search(value) for value in values.values()):
            result.problems.append((line, _("A cell holds a control character (such as NUL); retype the line.")))
            continue
        if any(_BIDI.search(value) for value in values.values()):
            result.problems.append((line, _("A cell holds an invisible text-direction character, which can make "
                                            "one name display as another; retype the line.")))
            continue
        formulas = [name for name, value in values.items() if value.startswith(FORMULA_START)
                    and not (name == "phone" and re.fullmatch(r"\+?[\d .]+", value))]
        if formulas:
            result.problems.append((line, _("A cell starts with = + - or @ (a formula); enter plain values.")))
            continue
        if not values["full_name"] or not values["unit_code"]:
            result.problems.append((line, _("The full name and the unit code are required.")))
            continue
        status = STATUSES.get(_key(values["status"]))
        if status is None:
            result.problems.append((line, _("Unknown status “%(status)s” (use: đang công tác, nghỉ việc, nghỉ hưu, "
                                            "chuyển công tác, chuyển ra ngoài tỉnh, nghỉ dài hạn).") % {"status": values["status"][:40]}))
            continue
        rows.append(RosterRow(line=line, full_name=values["full_name"][:150], unit_code=values["unit_code"].upper(),
                              position=values["position"][:150], status=status, email=values["email"].lower()[:254],
                              phone=values["phone"][:20]))
    return rows


def _check_units(rows, known_unit_codes, result) -> None:
    known = known_unit_codes({row.unit_code for row in rows})
    for row in rows:
        if row.unit_code not in known:
            result.problems.append((row.line, _("Unknown unit code %(code)s (or a unit outside your scope).") % {
                "code": row.unit_code}))


def _check_duplicates(rows, result) -> None:
    """The same row twice, or two rows with one e-mail address. (Two officers of one unit may share a
    name — Nguyễn Văn An is common — so a name alone is no duplicate; the matcher reports them.)"""
    seen = {}
    for row in rows:
        keys = [("row", row.unit_code, _key(row.full_name), _key(row.position), row.email, phone_digits(row.phone))]
        if row.email:
            keys.append(("email", row.email))
        for key in keys:
            if key in seen:
                result.problems.append((row.line, _("Same officer as line %(line)d.") % {"line": seen[key]}))
                break
            seen[key] = row.line


def table_read(data: bytes, file_name: str, problems: list) -> list[list[str]]:
    """A .csv (UTF-8) or .xlsx file as rows of text, blank rows left out — the reader every register the
    portal imports shares (the roster here, the endpoint-protection register in letter/). XLSX formulas
    are reported into `problems` by line; a file that cannot be read raises ValueError with a message."""
    if file_name.lower().endswith(".xlsx"):
        table = _table_from_xlsx(data, problems)
    elif file_name.lower().endswith(".csv"):
        table = _table_from_csv(data)
    else:
        raise ValueError(_("Upload the file as .csv (UTF-8) or .xlsx."))
    return [row for row in table if any(str(cell).strip() for cell in row)]


def cell_key(text) -> str:
    """A header or a word as the readers compare it: lower-case, without accents, single spaces."""
    return _key(text)
