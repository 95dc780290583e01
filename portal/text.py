"""Text folding shared by every app: officers type Vietnamese names without accents, and lists,
searches and password rules compare text the same way."""
import unicodedata


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
