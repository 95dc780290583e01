"""What the strength check says: its msgids, the hints per kind of part, and their rendering.

Every msgid is marked with gettext_noop so that makemessages extracts it for locale/vi; the comment
beside each is its Vietnamese translation in locale/vi.
"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.utils.translation import gettext, gettext_lazy


def gettext_noop(message: str) -> str:
    """Marks a msgid for makemessages (keyword gettext_noop) without reading settings at import.

    Django's own gettext_noop asks settings.USE_I18N, which would make this pure module need a
    configured Django just to be imported.
    """
    return message


# Vietnamese: "Mật khẩu chỉ gồm tên riêng/địa danh và ngày tháng hoặc con số dễ đoán. Hãy dùng một
# cụm nhiều từ không liên quan."
GUESSABLE_ONLY_MSGID = gettext_noop(
    "The password is only names, places or common words plus a date or an easy number. "
    "Use a phrase of several unrelated words."
)
GUESSABLE_ONLY_MESSAGE = gettext_lazy(GUESSABLE_ONLY_MSGID)

# Hints shown with GUESSABLE_ONLY_MESSAGE, one per kind of part found.
PLACE_HINT = gettext_noop("Place names are easy to guess.")  # Tên địa danh rất dễ đoán.
USER_HINT = gettext_noop(  # Tên, tên đăng nhập, thư điện tử hay tên đơn vị của bạn rất dễ đoán.
    "Your own name, username, e-mail or unit is easy to guess."
)
GOVERNMENT_HINT = gettext_noop(  # Tên cơ quan và hệ thống nơi bạn làm việc rất dễ đoán.
    "Names of your office and its systems are easy to guess."
)
PHONE_HINT = gettext_noop("Phone numbers are easy to guess.")  # Số điện thoại rất dễ đoán.
ACCENT_HINT = gettext_noop(  # Dấu tiếng Việt không làm mật khẩu khó đoán hơn bao nhiêu.
    "Vietnamese accent marks don't help very much."
)
SYMBOL_HINT = gettext_noop(  # Ký hiệu chèn giữa các phần không làm mật khẩu khó đoán hơn bao nhiêu.
    "Symbols between the parts don't help very much."
)

# Every feedback string of zxcvbn 4.5.0 (zxcvbn/feedback.py), marked here so that its advice,
# which zxcvbn returns in English, is extracted for locale/vi and shown translated.
ZXCVBN_MESSAGES = frozenset(
    (
        gettext_noop("Use a few words, avoid common phrases."),  # Hãy dùng vài từ, tránh các cụm từ thông dụng.
        gettext_noop("No need for symbols, digits, or uppercase letters."),  # Không cần ký hiệu, chữ số hay chữ in hoa.
        gettext_noop(  # Thêm một hai từ nữa. Từ ít gặp thì tốt hơn.
            "Add another word or two. Uncommon words are better."
        ),
        gettext_noop("Straight rows of keys are easy to guess."),  # Các phím liền nhau trên một hàng rất dễ đoán.
        gettext_noop("Short keyboard patterns are easy to guess."),  # Các mẫu phím ngắn rất dễ đoán.
        gettext_noop(  # Hãy dùng mẫu phím dài hơn, đổi hướng nhiều hơn.
            "Use a longer keyboard pattern with more turns."
        ),
        gettext_noop('Repeats like "aaa" are easy to guess.'),  # Lặp lại như "aaa" rất dễ đoán.
        gettext_noop(  # Lặp lại như "abcabcabc" chỉ khó đoán hơn "abc" một chút.
            'Repeats like "abcabcabc" are only slightly harder to guess than "abc".'
        ),
        gettext_noop("Avoid repeated words and characters."),  # Tránh lặp lại từ và ký tự.
        gettext_noop('Sequences like "abc" or "6543" are easy to guess.'),  # Dãy như "abc" hay "6543" rất dễ đoán.
        gettext_noop("Avoid sequences."),  # Tránh các dãy liên tiếp.
        gettext_noop("Recent years are easy to guess."),  # Các năm gần đây rất dễ đoán.
        gettext_noop("Avoid recent years."),  # Tránh dùng các năm gần đây.
        gettext_noop("Avoid years that are associated with you."),  # Tránh các năm gắn với bạn.
        gettext_noop("Dates are often easy to guess."),  # Ngày tháng thường rất dễ đoán.
        gettext_noop("Avoid dates and years that are associated with you."),  # Tránh ngày tháng và năm gắn với bạn.
        gettext_noop("This is a top-10 common password."),  # Đây là một trong 10 mật khẩu phổ biến nhất.
        gettext_noop("This is a top-100 common password."),  # Đây là một trong 100 mật khẩu phổ biến nhất.
        gettext_noop("This is a very common password."),  # Đây là mật khẩu rất phổ biến.
        gettext_noop("This is similar to a commonly used password."),  # Mật khẩu này giống một mật khẩu phổ biến.
        gettext_noop("A word by itself is easy to guess."),  # Một từ đứng riêng rất dễ đoán.
        gettext_noop("Names and surnames by themselves are easy to guess."),  # Tên và họ đứng riêng rất dễ đoán.
        gettext_noop("Common names and surnames are easy to guess."),  # Tên và họ phổ biến rất dễ đoán.
        gettext_noop("Capitalization doesn't help very much."),  # Viết hoa không giúp được bao nhiêu.
        gettext_noop(  # Viết hoa toàn bộ cũng dễ đoán gần như viết thường.
            "All-uppercase is almost as easy to guess as all-lowercase."
        ),
        gettext_noop("Reversed words aren't much harder to guess."),  # Viết ngược một từ không khó đoán hơn bao nhiêu.
        gettext_noop(  # Thay thế dễ đoán như "@" thay cho "a" không giúp được bao nhiêu.
            "Predictable substitutions like '@' instead of 'a' don't help very much."
        ),
    )
)

# Which hint a kind of part earns; the msgids are zxcvbn's where it already has one.
PART_HINTS = {
    "family_name": "Common names and surnames are easy to guess.",
    "middle_name": "Common names and surnames are easy to guess.",
    "given_name": "Common names and surnames are easy to guess.",
    "foreign_name": "Common names and surnames are easy to guess.",
    "place": PLACE_HINT,
    "user_input": USER_HINT,
    "user_number": USER_HINT,
    "government": GOVERNMENT_HINT,
    "phrase": "This is similar to a commonly used password.",
    "common_password": "This is similar to a commonly used password.",
    "year": "Avoid dates and years that are associated with you.",
    "date": "Dates are often easy to guess.",
    "phone": PHONE_HINT,
    "sequence": 'Sequences like "abc" or "6543" are easy to guess.',
    "repeat": 'Repeats like "aaa" are easy to guess.',
    "keyboard": "Straight rows of keys are easy to guess.",
}


def hints_for(pieces):
    hints = []
    for piece in pieces:
        hint = PART_HINTS.get(piece.kind)
        if hint:
            hints.append(hint)
        if "leet" in piece.dressing:
            hints.append("Predictable substitutions like '@' instead of 'a' don't help very much.")
        if "accent" in piece.dressing:
            hints.append(ACCENT_HINT)
    if any(p.kind == "symbol" or "separated" in p.dressing for p in pieces):
        hints.append(SYMBOL_HINT)
    return hints


def render_feedback(messages: list[str]) -> list[str]:
    """Unique, non-empty msgids in the active language.

    Without a configured Django (a script, the tests run with -p no:django) the English msgids are
    returned: the translation machinery cannot start before the app registry is ready.
    """
    translate = settings.configured and apps.ready
    rendered = []
    for message in messages:
        if not message:
            continue
        text = gettext(message) if translate else message
        if text not in rendered:
            rendered.append(text)
    return rendered
