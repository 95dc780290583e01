"""Every validator of the policy with good and bad passwords (letter point 3 and docs/architecture.md defaults)."""
import re

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import translation

from policy import validators
from tests.factories import UserFactory

STRONG = "Song-Dong-Nai-Xanh-Mat-48!"


def _codes(password, user=None):
    try:
        validate_password(password, user=user)
    except ValidationError as error:
        return {item.code for item in error.error_list}
    return set()


def _messages(validator, password, user=None):
    with translation.override("vi"):
        with pytest.raises(ValidationError) as error:
            validator.validate(password, user)
    return " ".join(error.value.messages)


def test_it_accepts_a_strong_passphrase(db):
    assert _codes(STRONG) == set()


def test_it_accepts_a_random_password(db):
    assert _codes("q7#Vt9!pXe2$Lm") == set()


@pytest.mark.parametrize("password", ["Ab1!xyz", "Ab1!"])
def test_it_refuses_a_password_under_eight_characters(db, password):
    assert "password_too_short" in _codes(password)


def test_it_asks_twelve_characters_of_an_it_admin(db, it_admin):
    validator = validators.MinimumLengthValidator()
    validator.validate("Kx7#mQ2!vLp9")  # 12: fine for an officer
    validator.validate("Kx7#mQ2!vLp9", it_admin)
    with pytest.raises(ValidationError):
        validator.validate("Kx7#mQ2!vLp", it_admin)
    validator.validate("Kx7#mQ2!v", None)


def test_it_refuses_more_than_128_characters(db):
    assert "password_too_long" in _codes("Ab1!" + "x" * 125)
    validators.MaximumLengthValidator().validate("Ab1!" + "x" * 124)


@pytest.mark.parametrize("password,missing", [
    ("song-dong-nai-48!", "chữ hoa"),
    ("SONG-DONG-NAI-48!", "chữ thường"),
    ("Song-Dong-Nai-Xanh!", "chữ số"),
    ("SongDongNaiXanh48", "ký tự đặc biệt"),
])
def test_it_requires_each_character_class_in_vietnamese(db, password, missing):
    message = _messages(validators.CharacterClassValidator(), password)
    assert missing in message


def test_it_counts_accented_letters_and_spaces_correctly(db):
    validators.CharacterClassValidator().validate("Sông Đồng Nai xanh 48!")
    with pytest.raises(ValidationError):
        validators.CharacterClassValidator().validate("Sông Đồng Nai xanh 48")  # a space is not a symbol


BLOCKLISTED = ["123456", "Matkhau123!", "matkhau123", "Anhyeuem@1", "anhyeuem", "Admin@123", "P@ssw0rd", "Demo@123",
               "DongNai@2024", "dongnai@2024", "Đồng Nai@2024", "DONGNAI_1975", "2024@DongNai", "Bienhoa@2023",
               "Cntt@2025", "Ubnd@2024", "Motcua@2024", "Dichvucong@2035", "Password@123", "Qwerty@123"]


@pytest.mark.parametrize("password", BLOCKLISTED)
def test_it_refuses_blocklisted_passwords_without_case_accents_or_separators(db, password):
    with pytest.raises(ValidationError) as error:
        validators.BlocklistValidator().validate(password)
    assert error.value.error_list[0].code == "password_blocklisted"


@pytest.mark.parametrize("password", [STRONG, "DongNai-Quat-Mua-Tre-9!", "Dongnai@1949x#Kq"])
def test_it_does_not_blocklist_longer_passwords_that_only_contain_a_name(db, password):
    validators.BlocklistValidator().validate(password)


def test_it_explains_the_blocklist_in_vietnamese(db):
    assert "danh sách" in _messages(validators.BlocklistValidator(), "DongNai@2024")


@pytest.fixture
def officer(units):
    return UserFactory(username="hoang.hieu", full_name="Hoàng Trung Hiếu", email="hieu.hoang@bienhoa.gov.vn",
                       unit=units["tan_phong"])


@pytest.mark.parametrize("password", ["Hoang.Hieu#2024", "HoangTrungHieu!9", "hieu.hoang@x1A", "Tanphong@2024!",
                                      "Hoàng Trung Hiếu 1!"])
def test_it_refuses_passwords_similar_to_the_users_own_details(officer, password):
    with pytest.raises(ValidationError) as error:
        validators.UserAttributeSimilarityValidator().validate(password, officer)
    assert error.value.error_list[0].code == "password_too_similar"


def test_it_accepts_unrelated_passwords_for_the_same_user(officer):
    validators.UserAttributeSimilarityValidator().validate(STRONG, officer)


@pytest.mark.parametrize("password", ["Xuanloc@2024", "Hoanghieu@1974", "Ngobinh.1994", "Longkhanh_1302",
                                      "Ubnd1997@"])
def test_it_refuses_names_and_places_dressed_with_a_date(db, password):
    with pytest.raises(ValidationError) as error:
        validators.StrengthValidator().validate(password)
    assert [item.code for item in error.value.error_list] == ["password_guessable_parts"]


def test_it_explains_guessable_parts_in_vietnamese(db):
    message = _messages(validators.StrengthValidator(), "Xuanloc@2024")
    assert "chỉ gồm tên riêng, địa danh hoặc từ thông dụng kèm ngày tháng" in message


def test_it_refuses_a_low_zxcvbn_score_with_translated_feedback(db):
    # A repeated pattern: zxcvbn scores it 1, and it is not made of names, places and dates only.
    with translation.override("vi"):
        with pytest.raises(ValidationError) as error:
            validators.StrengthValidator().validate("Aa1!Aa1!Aa1!")
    assert [item.code for item in error.value.error_list] == ["password_too_weak"]
    message = " ".join(error.value.messages)
    assert message.startswith("Mật khẩu này quá dễ đoán.")
    assert "Tránh lặp lại từ và ký tự." in message  # zxcvbn's own advice, in Vietnamese


def test_it_takes_the_minimum_score_from_the_policy(db, it_admin):
    from policy.services import policy_update

    password = "Kx7#mQ2!vL"  # random, ten characters: zxcvbn scores it 3
    validators.StrengthValidator().validate(password)
    policy_update(actor=it_admin, values={"min_zxcvbn_score": 4})
    with pytest.raises(ValidationError):
        validators.StrengthValidator().validate(password)


def test_it_shows_the_rules_as_help_texts_in_vietnamese(db):
    from django.contrib.auth.password_validation import password_validators_help_texts

    with translation.override("vi"):
        texts = " ".join(password_validators_help_texts())
    assert "Ít nhất 8 ký tự" in texts


def _shipped_blocklist():
    lines = validators.BLOCKLIST_FILE.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_it_refuses_every_word_of_the_shipped_vietnamese_list(db):
    accepted = []
    for word in _shipped_blocklist():
        for variant in (word, word.upper(), word.title()):
            try:
                validators.BlocklistValidator().validate(variant)
            except ValidationError:
                continue
            accepted.append(variant)
    assert accepted == []
    assert len(_shipped_blocklist()) > 100


# The passphrases the change page prints (and the one it used to print, accented).
SHOWN_EXAMPLES = list(validators.PASSPHRASE_EXAMPLES) + ["Mưa-Quạt-Bút-Chì-7!"]


@pytest.mark.parametrize("example", validators.PASSPHRASE_EXAMPLES)
def test_it_refuses_the_examples_the_portal_shows(db, example):
    # Everything else about an example is good: only being shown makes it a bad password.
    assert _codes(example) == {"password_blocklisted"}


@pytest.mark.parametrize("variant", ["tau ghe den sach nui 5", "TAU-GHE-DEN-SACH-NUI-5!", "Tàu-Ghé-Đèn-Sách-Núi-5!",
                                     "Tau.Ghe.Den.Sach.Nui.2026!", "7Ca_Phe_Ban_Go_Chim_Sao!"])
def test_it_refuses_the_examples_folded_and_with_another_number(db, variant):
    assert "password_blocklisted" in _codes(variant)


def test_it_shows_examples_without_accents():
    for example in validators.PASSPHRASE_EXAMPLES:
        assert example.isascii(), example


def test_it_does_not_show_the_tests_default_password_as_an_example(db):
    from tests.factories import DEFAULT_PASSWORD

    assert not validators.is_blocklisted(DEFAULT_PASSWORD)


def test_it_lists_the_officers_own_minimum_length_not_the_admins(db, officer):
    with translation.override("vi"):
        rules = validators.password_rules_for(officer, required=False)
    texts = [rule.text for rule in rules]
    length = [rule for rule in rules if rule.check == "min_length"]
    assert [(rule.text, rule.value) for rule in length] == [("Ít nhất 8 ký tự", 8)]
    assert not any(re.search(r"(?<!\d)12(?!\d)", text) for text in texts)


def test_it_lists_twelve_characters_for_an_it_admin(db, it_admin):
    length = [rule for rule in validators.password_rules_for(it_admin, required=False) if rule.check == "min_length"]
    assert [rule.value for rule in length] == [12]


def test_it_leaves_the_minimum_age_out_of_a_required_change(db, officer):
    with translation.override("vi"):
        optional = [rule.text for rule in validators.password_rules_for(officer, required=False)]
        required = [rule.text for rule in validators.password_rules_for(officer, required=True)]
    minimum_age = "Sau khi đổi, chỉ được đổi lại sau 24 giờ, trừ khi Trung tâm CNTT yêu cầu"
    assert minimum_age in optional
    assert minimum_age not in required
    assert len(optional) == len(required) + 1
