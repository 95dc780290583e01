"""Digits as a guesser reads them: years, dates, Vietnamese phone numbers, runs and repeats."""

from __future__ import annotations

import math
import re

from .pieces import Piece

# Someone targeting an officer tries the officer's own birth date, phone and years in a few
# spellings first: about ten guesses, however many dates or phones exist in general. That holds for
# one such number; a second one costs what it costs anybody (UNTARGETED_GUESSES).
PERSONAL_NUMBER_LOG10 = 1.0
UNTARGETED_GUESSES = {
    "year": 86,  # 1950-2035
    "date": 366 * 100,  # a day of a year, the year written with two or four digits
    "day_month": 366,
    "phone": 5 * 10**8,  # 0[35789] and eight digits
}
YEAR_RANGE = range(1950, 2036)
DIGIT_RUNS = ("01234567890", "09876543210")
DATE_WITH_SEPARATORS = re.compile(r"(\d{1,4})([/.\-_ ])(\d{1,2})(?:\2(\d{2}|\d{4}))?(?!\d)")


def number_pieces(start, lowered, user_numbers):
    n = len(lowered)
    if lowered.startswith("+84", start):
        national = lowered[start + 3:start + 12]
        if len(national) == 9 and national.isdigit() and national[0] in "35789":
            yield _personal(start, start + 12, "phone", "phone")
        return
    match = DATE_WITH_SEPARATORS.match(lowered, start)
    if match:
        if _is_separated_date(match):
            yield _personal(start, match.end(), "date", "day_month" if match.group(4) is None else "date")
    end = start
    while end < n and end - start < 12 and lowered[end].isdigit():
        end += 1
        yield _classify_digits(start, end, lowered[start:end], user_numbers)


def _personal(start, end, kind, space):
    # Never dearer than guessing its characters one digit at a time ("4651" read as 4/6/51).
    log10 = min(math.log10(UNTARGETED_GUESSES[space]), float(end - start))
    return Piece(start, end, kind, PERSONAL_NUMBER_LOG10, untargeted_log10=log10)


def _classify_digits(start: int, end: int, digits: str, user_numbers: frozenset[str]) -> Piece:
    n = len(digits)
    if digits in user_numbers:
        return Piece(start, end, "user_number", PERSONAL_NUMBER_LOG10, untargeted_log10=float(n))
    if n == 4 and int(digits) in YEAR_RANGE:
        return _personal(start, end, "year", "year")
    if n >= 3 and any(digits in run for run in DIGIT_RUNS):
        # zxcvbn's count: an obvious start (0, 1, 9) or any digit, times the length, times direction.
        starts = 4 if digits[0] in "019" else 10
        return Piece(start, end, "sequence", math.log10(starts * n * (1 if digits[1] > digits[0] else 2)))
    period = _period(digits)
    if n >= 3 and period == 1:  # "2222" is a repeat before it is 2/2/22
        return Piece(start, end, "repeat", math.log10(10 * n))
    if _is_date(digits):
        return _personal(start, end, "date", "day_month" if n <= 4 and not _is_date_with_year(digits) else "date")
    if _is_phone(digits):
        return _personal(start, end, "phone", "phone")
    if n >= 3 and period < n:
        return Piece(start, end, "repeat", period + math.log10(n / period))
    return Piece(start, end, "number", float(n))


def _period(digits):
    for size in range(1, len(digits) // 2 + 1):
        if len(digits) % size == 0 and digits[:size] * (len(digits) // size) == digits:
            return size
    return len(digits)


def _is_phone(digits):
    # Vietnamese mobiles 0[35789]x xxx xxxx, the same after 84, landlines 02xx xxx xxxx.
    n = len(digits)
    return (
        (n == 10 and digits[0] == "0" and digits[1] in "35789")
        or (n == 11 and digits.startswith("84") and digits[2] in "35789")
        or (n == 11 and digits.startswith("02"))
    )


def _is_date(digits: str) -> bool:
    """A date written without separators: ddmmyyyy, yyyymmdd, ddmmyy, yymmdd, dmyy, ddmm..."""
    return _is_date_with_year(digits) or (3 <= len(digits) <= 4 and _is_day_month(digits))


def _is_date_with_year(digits: str) -> bool:
    n = len(digits)
    if n >= 6:
        for year, rest in ((digits[-4:], digits[:-4]), (digits[:4], digits[4:])):
            if int(year) in YEAR_RANGE and _is_day_month(rest):
                return True
    return 4 <= n <= 6 and (_is_day_month(digits[:-2]) or _is_day_month(digits[2:]))


def _is_day_month(digits: str) -> bool:
    if not 2 <= len(digits) <= 4:
        return False
    for cut in range(1, len(digits)):
        first, second = digits[:cut], digits[cut:]
        if len(first) > 2 or len(second) > 2:
            continue
        a, b = int(first), int(second)
        if (1 <= a <= 31 and 1 <= b <= 12) or (1 <= a <= 12 and 1 <= b <= 31):
            return True
    return False


def _is_separated_date(match) -> bool:
    """dd/mm/yyyy, dd-mm-yy, yyyy.mm.dd, dd/mm ..."""
    first, _, second, third = match.groups()
    if third is None:
        return len(first) <= 2 and _is_day_month(first + second)
    for year, day_month in ((third, first + second), (first, second + third)):
        if len(year) == 4 and int(year) in YEAR_RANGE and _is_day_month(day_month):
            return True
        if len(year) == 2 and len(day_month) <= 4 and _is_day_month(day_month):
            return True
    return False
