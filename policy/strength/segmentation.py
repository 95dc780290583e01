"""Reading a password as parts: dressing removal (case, leetspeak, separators) and the cheapest split.

A dynamic programme over positions finds the cheapest explanation of the whole password as
dictionary words, numbers (numbers.py), keyboard runs, repeats and symbols.
"""

from __future__ import annotations

import math
from functools import cache

from .dictionaries import MAX_WORD_LENGTH, MIN_WORD_LENGTH, Vocabulary, load_dictionaries
from .estimate import reading_strength
from .numbers import number_pieces
from .pieces import Piece

# Prefer one long known word ("longkhanh") to two short ones ("long" + "khanh") when costs are close.
PART_PENALTY_LOG10 = math.log10(2)
# An unrecognised letter is the last resort of the segmentation, so "xanh" is read as a word
# rather than as "x" + "anh"; its cost in the strength stays the honest 26 guesses.
UNKNOWN_LETTER_PENALTY_LOG10 = 1.0
LEET_LETTERS = {
    "0": "o", "1": "il", "3": "e", "4": "a", "5": "s", "6": "g", "7": "t", "8": "b", "9": "g",
    "@": "a", "$": "s", "!": "i", "|": "il", "+": "t",
}
MAX_LEET_VARIANTS = 16
# A symbol closing a word is ambiguous: "Ng@17101964" is "Nga" + a date, but in "Tho.Tho@26" the
# @ separates. Passwords with one are read both ways and judged by the cheaper reading.
LEET_SYMBOLS = set("@$!|+")
COMMON_SYMBOLS = set("@._-#!*&$ +,")
# Written between the syllables of one name: "Đồng Nai", "Biên-Hòa", "dich.vu.cong" are still the
# listed "dongnai", "bienhoa", "dichvucong", at the cost of choosing the separator.
SYLLABLE_SEPARATORS = set(" .-_")
KEYBOARD_WALKS = (
    "`1234567890-=", "qwertyuiop[]\\", "asdfghjkl;'", "zxcvbnm,./", "~!@#$%^&*()_+",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/", "qazwsxedcrfvtgbyhnujmik,ol.p;/",
    "1q2w3e4r5t6y7u8i9o0p", "q1w2e3r4t5y6u7i8o9p0", "zaq1xsw2cde3vfr4bgt5nhy6mju7",
    "!qaz@wsx#edc$rfv%tgb", "qweasdzxc", "qwertasdfgzxcvb", "147258369", "741852963", "789456123",
    "159357", "1470258369",
)


def cheapest_reading(text: str, lowered: str, vocabulary: Vocabulary) -> tuple[list[Piece], float, bool]:
    """The reading an attacker would find cheapest: explained first, then fewest guesses."""
    best = None
    for symbols_end_words in (True, False):
        pieces = _segment(text, lowered, vocabulary, symbols_end_words)
        strength, explained = reading_strength(pieces, text)
        if best is None or (not explained, strength) < (not best[2], best[1]):
            best = (pieces, strength, explained)
        if not any(p.word and lowered[p.end - 1] in LEET_SYMBOLS for p in pieces):
            break  # no word ends in a symbol: the second reading would be the same
    return best


def _segment(text: str, lowered: str, vocabulary: Vocabulary, symbols_end_words: bool) -> list[Piece]:
    """Cheapest explanation of the whole password as words, numbers, runs and symbols (DP)."""
    n = len(lowered)
    best = [math.inf] * (n + 1)
    chosen: list[Piece | None] = [None] * (n + 1)
    best[0] = 0.0
    for start in range(n):
        if best[start] == math.inf:
            continue
        for piece in _candidates(start, text, lowered, vocabulary, symbols_end_words):
            total = best[start] + piece.log10 + piece.case_log10 + PART_PENALTY_LOG10
            if piece.kind == "unknown":
                total += UNKNOWN_LETTER_PENALTY_LOG10
            if total < best[piece.end]:
                best[piece.end] = total
                chosen[piece.end] = piece
    pieces = []
    end = n
    while end > 0:
        piece = chosen[end]
        pieces.append(piece)
        end = piece.start
    pieces.reverse()
    return pieces


def _candidates(start, text, lowered, vocabulary, symbols_end_words):
    char = lowered[start]
    yield _single_character(start, text, lowered)
    if char.isdigit() or char == "+":
        yield from number_pieces(start, lowered, vocabulary.numbers)
    if char.isascii() and (char.isalpha() or char in LEET_LETTERS):
        yield from _words(start, text, lowered, vocabulary.words, symbols_end_words)
    yield from _runs(start, lowered)


def _single_character(start, text, lowered):
    char = lowered[start]
    if char.isdigit():
        return Piece(start, start + 1, "number", 1.0)
    if "a" <= char <= "z":
        return Piece(start, start + 1, "unknown", math.log10(52 if text[start].isupper() else 26))
    if char.isascii() and char.isprintable():
        return Piece(start, start + 1, "symbol", 1.0 if char in COMMON_SYMBOLS else math.log10(33))
    return Piece(start, start + 1, "other_character", 2.0)


def _words(start, text, lowered, user_words, symbols_end_words):
    index = load_dictionaries().words
    variants = None  # stays None while the token is plain letters: then its slice is its only reading
    letters = separators = 0
    # Separators join whole syllables only: they start a word where a syllable starts...
    may_separate = start == 0 or not lowered[start - 1].isalpha() or text[start].isupper()
    for end in range(start + 1, min(len(lowered), start + MAX_WORD_LENGTH) + 1):
        char = lowered[end - 1]
        if "a" <= char <= "z":
            letters += 1
            if variants is not None:
                variants = [v + char for v in variants]
        elif (
            char in SYLLABLE_SEPARATORS and may_separate and letters
            and end < len(lowered) and "a" <= lowered[end] <= "z"
        ):
            separators += 1  # only between letters: "Mat-48" is not "mata"
            variants = [lowered[start:end - 1]] if variants is None else variants
            continue  # a word never ends on a separator
        elif char in LEET_LETTERS:
            readings = [lowered[start:end - 1]] if variants is None else variants
            variants = [v + letter for v in readings for letter in LEET_LETTERS[char]]
            if len(variants) > MAX_LEET_VARIANTS:
                return
        else:
            return
        length = end - start - separators
        # A word needs real letters ("H4" may be "ha"), so "1990" stays a year and never "iggo".
        if length < MIN_WORD_LENGTH or letters * 2 < length:
            continue
        if char in LEET_SYMBOLS and not symbols_end_words:
            continue
        if separators and end < len(lowered) and lowered[end].isalpha() and not text[end].isupper():
            continue  # ... and end with one: "Han-Hanh" is not "hanh" + "anh"
        for variant in variants if variants is not None else (lowered[start:end],):
            own = user_words.get(variant)
            listed = index.get(variant)
            if own is not None and (listed is None or own <= listed[0]):
                rank, kind = own, "user_input"
            elif listed is not None:
                rank, kind = listed
            else:
                continue
            yield _word_piece(start, end, kind, rank, variant, text, lowered, length - letters, separators)


def _word_piece(start, end, kind, rank, word, text, lowered, substitutions, separators):
    token = text[start:end]
    cost = math.log10(rank) + substitutions * math.log10(2) + bool(separators) * math.log10(len(SYLLABLE_SEPARATORS))
    dressing = (
        ("leet",) * bool(substitutions)
        + ("accent",) * (token.lower() != lowered[start:end])
        + ("separated",) * bool(separators)
    )
    return Piece(start, end, kind, cost, math.log10(_case_variations(token)), word, dressing)


def _case_variations(token: str) -> int:
    """zxcvbn's count of capitalisations an attacker tries for this token's pattern."""
    upper = sum(1 for c in token if c.isupper())
    lower = sum(1 for c in token if c.islower())
    if upper == 0:
        return 1
    if lower == 0 or (upper == 1 and (token[0].isupper() or token[-1].isupper())):
        return 2
    return sum(math.comb(upper + lower, i) for i in range(1, min(upper, lower) + 1))


def _runs(start, lowered):
    n = len(lowered)
    keyboard = _keyboard_runs()
    for end in range(start + 3, min(n, start + 16) + 1):
        if lowered[start:end] in keyboard:
            yield Piece(start, end, "keyboard", math.log10(100 * (end - start)))
    end = start + 1
    while end < n and lowered[end] == lowered[start]:
        end += 1
    # Only the whole run: shorter ones start later in it anyway, and "a" * 128 stays linear.
    if end - start >= 3:
        yield Piece(start, end, "repeat", math.log10(95 * (end - start)))


@cache
def _keyboard_runs() -> frozenset[str]:
    runs = set()
    for walk in KEYBOARD_WALKS:
        for line in (walk, walk[::-1]):
            for length in range(3, 17):
                runs.update(line[i:i + length] for i in range(len(line) - length + 1))
    return frozenset(runs)
