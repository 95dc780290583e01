"""Django password validators driven by the one editable policy (policy.selectors.policy_for).

Each refuses with a message in the user's language and a help text for the password form. They run
wherever a password is chosen: the change form, the service behind it, and any future import.
"""
import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path

from django.contrib.auth.hashers import check_password
from django.contrib.auth.password_validation import CommonPasswordValidator, get_default_password_validators
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .selectors import current_policy, password_change_allowed_from, policy_for, recent_password_hashes
from .strength import GUESSABLE_ONLY_MESSAGE, assess, fold

# NIST SP 800-63B: allow long passphrases (at least 64); 128 bounds the hashing cost of a request.
MAX_PASSWORD_LENGTH = 128
SPECIAL_CHARACTERS = r"""!@#$%^&*()_+-=[]{};:'",.<>/?\|`~"""
BLOCKLIST_FILE = Path(__file__).resolve().parent / "blocklist" / "vietnamese_common_passwords.txt"
# Names of the province, its organs and this portal: "DongNai@2024" is guessed first by anyone.
LOCAL_NAMES = (
    "dongnai", "tinhdongnai", "ubnddongnai", "ubndtinh", "ubnd", "sotttt", "stttt", "sothongtintruyenthong",
    "trungtamcntt", "ttcntt", "cntt", "congantoantaikhoan", "antoantaikhoan", "congdichvucong", "dichvucong",
    "motcua", "hanhchinhcong", "bienhoa", "longkhanh", "vietnam",
)
# The passphrases the portal shows as examples (the password page's tip): every reader has seen them, so
# they are refused, with any number stuck on. Without accents: accented letters are hard to type on some
# keyboards, and the same word typed on two machines may arrive composed differently (NFC/NFD).
PASSPHRASE_EXAMPLES = ("Tau-Ghe-Den-Sach-Nui-5!", "Ca-Phe-Ban-Go-Chim-Sao-3!")
_YEAR = r"(19[5-9]\d|20[0-2]\d|203[0-5])"
_SEPARATORS = re.compile(r"[\s\W_]+")
_NUMBER_DRESSING = re.compile(r"^\d{0,4}(?P<base>.*?)\d{0,4}$")


@dataclass(frozen=True)
class PasswordRule:
    """One line of the password page's checklist. `check` names what the page's script can test as the
    officer types (static/js/password.js), with its parameter in `value`; None for the rules only the
    server can judge (lists, history, estimates). The script is an aid: these validators decide."""

    text: str
    check: str | None = None
    value: int | None = None


class MaximumLengthValidator:
    def validate(self, password, user=None):
        if len(password) > MAX_PASSWORD_LENGTH:
            raise ValidationError(
                _("This password is too long: at most %(max)d characters.") % {"max": MAX_PASSWORD_LENGTH},
                code="password_too_long",
            )

    def get_help_text(self):
        return _("At most %(max)d characters; long passphrases are welcome.") % {"max": MAX_PASSWORD_LENGTH}

    def rules(self, user, *, required):
        return [PasswordRule(self.get_help_text())]


class MinimumLengthValidator:
    def validate(self, password, user=None):
        min_length = policy_for(user).min_length
        if len(password) < min_length:
            raise ValidationError(
                ngettext(
                    "This password is too short: it must have at least %(min)d character.",
                    "This password is too short: it must have at least %(min)d characters.",
                    min_length,
                ) % {"min": min_length},
                code="password_too_short",
            )

    def get_help_text(self):
        policy = current_policy()
        return _("At least %(min)d characters (%(admin)d for IT admins).") % {
            "min": policy.min_length, "admin": policy.min_length_admin}

    def rules(self, user, *, required):
        # The account's own minimum: an officer is not told the IT admins' 12.
        min_length = policy_for(user).min_length
        text = ngettext("At least %(min)d character", "At least %(min)d characters", min_length) % {"min": min_length}
        return [PasswordRule(text, check="min_length", value=min_length)]


class CharacterClassValidator:
    """Letter point 3: upper-case, lower-case, digits and special characters (!, @, #, $ …)."""

    def validate(self, password, user=None):
        missing = []
        if not any(char.isupper() for char in password):
            missing.append(_("an upper-case letter"))
        if not any(char.islower() for char in password):
            missing.append(_("a lower-case letter"))
        if not any(char.isdigit() for char in password):
            missing.append(_("a digit"))
        if not any(not char.isalnum() and not char.isspace() for char in password):
            missing.append(_("a special character such as ! @ # $"))
        if missing:
            raise ValidationError(
                _("The password must contain %(missing)s.") % {"missing": ", ".join(missing)},
                code="password_character_classes",
            )

    def get_help_text(self):
        return _("Upper-case and lower-case letters, digits and special characters (! @ # $ …).")

    def rules(self, user, *, required):
        return [
            PasswordRule(_("An upper-case letter"), check="upper"),
            PasswordRule(_("A lower-case letter"), check="lower"),
            PasswordRule(_("A digit"), check="digit"),
            PasswordRule(_("A special character such as ! @ # $"), check="special"),
        ]


def _compact(text: str) -> str:
    """Fold case and accents (đ as d) and drop separators: 'Đồng Nai @2024' → 'dongnai2024'."""
    return _SEPARATORS.sub("", fold(text))


@lru_cache(maxsize=1)
def _blocklist() -> frozenset:
    words = set(CommonPasswordValidator().passwords)  # Django's 20,000, already lower-case
    for line in BLOCKLIST_FILE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            words.add(fold(line))
    for example in PASSPHRASE_EXAMPLES:
        # The words alone too: is_blocklisted then refuses them with any number around them.
        words.add(_NUMBER_DRESSING.match(_compact(example)).group("base"))
        words.add(fold(example))
    return frozenset(words | {_compact(word) for word in words})


@lru_cache(maxsize=1)
def _local_name_with_year() -> re.Pattern:
    names = "|".join(sorted(LOCAL_NAMES, key=len, reverse=True))
    return re.compile(rf"^(?:(?:{names}){_YEAR}?|{_YEAR}(?:{names}))\d{{0,2}}$")


def is_blocklisted(password: str) -> bool:
    folded = fold(password.strip())
    compact = _compact(password)
    blocklist = _blocklist()
    if folded in blocklist or compact in blocklist or _local_name_with_year().match(compact):
        return True
    # A listed word with a number or year stuck on ("Anhyeuem@1", "Password2024!") is the first thing
    # a cracker tries after the word itself.
    base = _NUMBER_DRESSING.match(compact).group("base")
    return len(base) >= 4 and base in blocklist


class BlocklistValidator:
    """Common passwords (Django's list and a Vietnamese one), the portal's own examples, the province's
    and the portal's names with any year; compared without case, accents or separators, đ as d."""

    def validate(self, password, user=None):
        if is_blocklisted(password):
            raise ValidationError(
                _("This password is on the list of common or easily guessed passwords."),
                code="password_blocklisted",
            )

    def get_help_text(self):
        return _("Not a common password, nor an example shown by this portal, nor the name of the province, "
                 "its agencies or this portal with a year.")

    def rules(self, user, *, required):
        return [PasswordRule(self.get_help_text())]


# Words of a unit's name that say what kind of unit it is, not which: "UBND phường Tân Phong" → "tan phong".
UNIT_NAME_PREFIXES = re.compile(
    r"^(?:ubnd|uy ban nhan dan|so|ban|trung tam|van phong|thanh pho|thi xa|thi tran|huyen|phuong|xa|tinh)\s+"
)


def unit_name_core(name: str) -> str:
    folded = fold(name).strip()
    previous = None
    while previous != folded:
        previous = folded
        folded = UNIT_NAME_PREFIXES.sub("", folded)
    return folded


def user_attribute_texts(user) -> list[str]:
    """The account's own data that a password must not resemble."""
    if user is None:
        return []
    texts = [getattr(user, "username", ""), getattr(user, "full_name", ""), getattr(user, "email", "")]
    email = getattr(user, "email", "") or ""
    if "@" in email:
        texts.append(email.split("@")[0])
    unit = getattr(user, "unit", None) if getattr(user, "unit_id", None) else None
    if unit is not None:
        texts.extend([unit.name, unit_name_core(unit.name)])
    return [text for text in texts if text]


class UserAttributeSimilarityValidator:
    """Not similar to the username, full name, e-mail or unit name, compared without accents."""

    MAX_SIMILARITY = 0.7
    MIN_CONTAINED = 4

    def validate(self, password, user=None):
        compact_password = _compact(password)
        for text in user_attribute_texts(user):
            compact_text = _compact(text)
            if not compact_text:
                continue
            contained = len(compact_text) >= self.MIN_CONTAINED and compact_text in compact_password
            matcher = SequenceMatcher(a=compact_password, b=compact_text)
            similar = matcher.quick_ratio() >= self.MAX_SIMILARITY and matcher.ratio() >= self.MAX_SIMILARITY
            if contained or similar:
                raise ValidationError(
                    _("The password is too similar to your own details (username, name, e-mail or unit)."),
                    code="password_too_similar",
                )

    def get_help_text(self):
        return _("Not similar to your username, name, e-mail or unit.")

    def rules(self, user, *, required):
        return [PasswordRule(self.get_help_text())]


class StrengthValidator:
    """zxcvbn's estimate, taught Vietnamese names, places and dates (policy.strength)."""

    def validate(self, password, user=None):
        assessment = assess(password, user_attribute_texts(user))
        if assessment.guessable_only:
            # feedback[0] is the main message; the rest name the parts found (places, own data, phone…).
            raise ValidationError(" ".join(str(line) for line in assessment.feedback) or str(GUESSABLE_ONLY_MESSAGE),
                                  code="password_guessable_parts")
        if assessment.score < policy_for(user).min_zxcvbn_score:
            message = _("This password is too easy to guess.")
            if assessment.feedback:
                message = f"{message} {' '.join(str(line) for line in assessment.feedback)}"
            raise ValidationError(message, code="password_too_weak")

    def get_help_text(self):
        return _("Hard to guess: several unrelated words, or random characters; not names, places and dates.")

    def rules(self, user, *, required):
        return [PasswordRule(self.get_help_text())]


class PasswordHistoryValidator:
    """No reuse of the last N passwords (N from the policy; more for IT admins)."""

    def validate(self, password, user=None):
        if user is None or user.pk is None:
            return
        count = policy_for(user).history_count
        hashes = recent_password_hashes(user, count)
        if user.password and user.password not in hashes:
            hashes.insert(0, user.password)
        for encoded in hashes:
            if check_password(password, encoded):
                raise ValidationError(
                    ngettext(
                        "You used this password recently: it must differ from your last %(count)d password.",
                        "You used this password recently: it must differ from your last %(count)d passwords.",
                        count,
                    ) % {"count": count},
                    code="password_reused",
                )

    def get_help_text(self):
        return _("Different from your recent passwords.")

    def rules(self, user, *, required):
        count = policy_for(user).history_count
        return [PasswordRule(ngettext("Different from your last %(count)d password",
                                      "Different from your last %(count)d passwords", count) % {"count": count})]


class MinimumAgeValidator:
    """A password its owner chose less than the minimum age ago cannot be changed again by them (so the
    history cannot be cycled through); a password the IT Center or the operator set does not count, and
    a required change (one-time, expired, forced) is always allowed (policy.selectors)."""

    def validate(self, password, user=None):
        if password_change_allowed_from(user) is not None:
            hours = int(policy_for(user).min_age.total_seconds() // 3600)
            raise ValidationError(
                ngettext(
                    "You changed your password less than %(hours)d hour ago; try again later or ask the IT Center.",
                    "You changed your password less than %(hours)d hours ago; try again later or ask the IT Center.",
                    hours,
                ) % {"hours": hours},
                code="password_too_young",
            )

    def get_help_text(self):
        hours = int(current_policy().min_age_hours)
        return ngettext(
            "Not changed again within %(hours)d hour of the last change, unless the IT Center requires it.",
            "Not changed again within %(hours)d hours of the last change, unless the IT Center requires it.",
            hours,
        ) % {"hours": hours}

    def rules(self, user, *, required):
        if required:
            # The IT Center asks for this change: the minimum age does not hold it back, so it is not listed.
            return []
        hours = int(policy_for(user).min_age.total_seconds() // 3600)
        return [PasswordRule(ngettext(
            "Once changed, it can be changed again only after %(hours)d hour, unless the IT Center requires it",
            "Once changed, it can be changed again only after %(hours)d hours, unless the IT Center requires it",
            hours,
        ) % {"hours": hours})]


def password_rules_for(user, *, required: bool) -> list[PasswordRule]:
    """The rules that apply to this account's next password, in the configured validators' order
    (AUTH_PASSWORD_VALIDATORS): its own thresholds, and not the minimum age during a required change."""
    rules = []
    for validator in get_default_password_validators():
        if hasattr(validator, "rules"):
            rules.extend(validator.rules(user, required=required))
        elif validator.get_help_text():
            rules.append(PasswordRule(validator.get_help_text()))
    return rules
