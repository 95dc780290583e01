"""Text folding shared by every app: officers type Vietnamese names without accents, and lists,
searches and password rules compare text the same way."""
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def fold(text: str) -> str:
    """Lower-case, accents off, đ as d: the form every list and comparison uses."""
    return strip_marks(unicodedata.normalize("NFC", text)).lower()


def strip_marks(text: str) -> str:
    """Accents off, đ/Đ as d/D, case kept, one character out for each character in."""
    out = []
    for char in text:
        if char in "đĐ":
            out.append("D" if char == "Đ" else "d")
            continue
        base = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
        out.append(base[:1] or char)
    return "".join(out)


# Characters that are invisible or steer how the text around them is shown: C0 and C1 controls
# (DEL included), the bidirectional marks, embeddings, overrides and isolates, the zero-width characters
# and the byte-order mark, the line and paragraph separators. In a name or a reason they spoof what the
# audit log and the handover record show ("U+202E" turns "gpj.exe" around) and break CSV exports.
# Newlines are refused too: every name and reason is one line on its page (an <input>, not a textarea)
# and one cell in an export.
_INVISIBLE = frozenset(
    [*range(0x00, 0x20), *range(0x7F, 0xA0), 0x061C, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2028, 0x2029,
     *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0xFEFF]
)

# The same set as one character class: a compiled search runs in C (it is on every lookup decision's path,
# four fields a decision; the loop over characters cost ~20 µs a field).
_INVISIBLE_PATTERN = re.compile("[" + "".join(re.escape(chr(code)) for code in sorted(_INVISIBLE)) + "]")


def first_invisible_character(text: str) -> tuple[int, str] | None:
    """(1-based position, character) of the first control or direction character, or None."""
    found = _INVISIBLE_PATTERN.search(text or "")
    return (found.start() + 1, found.group()) if found is not None else None


def reject_control_characters(text: str) -> None:
    """Validator for names and reasons (forms and services alike): refuse invisible and direction
    characters with a message that says which one and where."""
    found = first_invisible_character(text)
    if found is not None:
        position, char = found
        raise ValidationError(
            _("This text contains an invisible or control character (U+%(code)s at position %(position)s). "
              "Retype it without that character."),
            code="control_character", params={"code": f"{ord(char):04X}", "position": position},
        )


def name_normalise(text: str) -> str:
    """A name as stored: NFC (one form for each accented letter, so that searches and comparisons
    match) and without surrounding spaces."""
    return unicodedata.normalize("NFC", text or "").strip()
