"""The fields of an account and their rules: e-mail address, full name, phone number, nationality.

E-mail addresses are checked by ``forms.checked_email`` (the email-validator library), phone
numbers by the phonenumbers library and kept in E.164 form (``+6281234567890``).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import phonenumbers
import pycountry
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat, ValidationResult

from forms import checked_email
from forms.texts import Message

MAX_EMAIL = 254
MAX_NAME = 200

PHONE_EXAMPLE = "+62 812 3456 7890"
MAX_E164_DIGITS = 15
_SEPARATORS = frozenset("-().")
_TOO_FEW = {ValidationResult.TOO_SHORT, ValidationResult.IS_POSSIBLE_LOCAL_ONLY}

# Any domain the e-mail check accepts, to tell a bad local part from a bad domain.
_GOOD_DOMAIN = "example.org"


def normalize_email(raw: str) -> str:
    """An e-mail address as stored: trimmed, lower-case, an international domain in its ASCII form."""
    email = raw.strip().lower()
    # An address that is not valid is kept as typed; email_problem explains what is wrong with it.
    return checked_email(email) or email


def email_problem(email: str) -> Message | None:
    """What is wrong with a normalized e-mail address, or None."""
    if not email:
        return Message("Enter your e-mail address; we send the confirmation link and case news to it.")
    if len(email) > MAX_EMAIL:
        return Message(
            "This address is longer than %(limit)s characters. Check it for pasted extra text.", limit=MAX_EMAIL
        )
    local, at, domain = email.rpartition("@")
    if not at or not local:
        return Message(
            "This is not an e-mail address: the @ and the part before it are missing. Write it as name@example.com."
        )
    if checked_email(email) is not None:
        return None
    if checked_email(f"{local}@{_GOOD_DOMAIN}") is None:
        return Message(
            "The part before the @ has characters an e-mail address cannot have. Write it as name@example.com."
        )
    return Message(
        "The part after the @ is not a valid domain (like example.com or mail.co.id). Write it as name@example.com."
    )


def name_problem(full_name: str) -> Message | None:
    """What is wrong with a full name (already trimmed and with single spaces), or None."""
    if not full_name:
        return Message("Enter your full name as it is written in your passport.")
    if len(full_name) > MAX_NAME:
        return Message(
            "Use at most %(limit)s characters (this name has %(count)s).", limit=MAX_NAME, count=len(full_name)
        )
    if any(unicodedata.category(ch).startswith("C") for ch in full_name):
        return Message("The name contains invisible control characters. Type it again instead of pasting it.")
    if not any(ch.isalpha() for ch in full_name):
        return Message("A name needs letters. Enter your full name as it is written in your passport.")
    return None


def normalize_phone(raw: str) -> str:
    """A phone number as stored: E.164 (``+6281234567890``) when valid, else as typed without separators."""
    phone = "".join(ch for ch in raw if not (ch.isspace() or ch in _SEPARATORS))
    phone = "+" + phone[2:] if phone.startswith("00") else phone
    checked = _checked(phone)
    # A number that is not valid is kept as typed; phone_problem explains what is wrong with it.
    return phone if isinstance(checked, Message) else phonenumbers.format_number(checked, PhoneNumberFormat.E164)


def phone_problem(phone: str) -> Message | None:
    """What is wrong with a normalized phone number, or None."""
    checked = _checked(phone)
    return checked if isinstance(checked, Message) else None


def _checked(phone: str) -> PhoneNumber | Message:
    """The number parsed and validated by phonenumbers, or what is wrong with it."""
    if not phone:
        return Message("Enter a phone number with its country code, for example %(example)s.", example=PHONE_EXAMPLE)
    if not phone.startswith("+"):
        return Message(
            "Start with + and the country code (+62 for Indonesia), for example %(example)s.", example=PHONE_EXAMPLE
        )
    digits = phone[1:]
    # Checked before parsing: phonenumbers would read letters as the digits of a phone keypad.
    if not (digits.isascii() and digits.isdigit()):
        return Message("Use only digits after the + (spaces and dashes are fine).")
    if len(digits) > MAX_E164_DIGITS:
        return Message(
            "This number has %(count)s digits; a full international number has 8 to 15. Check it.", count=len(digits)
        )
    try:
        number = phonenumbers.parse(phone, None)
    except NumberParseException as exc:
        if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE:
            return Message("+%(code)s is not a country calling code. Check the digits after the +.", code=digits[:3])
        return Message("This number has too few digits after the country code. Check it.")
    return _number_problem(digits, number) or number


def _number_problem(digits: str, number: PhoneNumber) -> Message | None:
    """What phonenumbers finds wrong with a parsed number, in words that say which part to check."""
    code = number.country_code or 0
    if phonenumbers.region_code_for_country_code(code) == phonenumbers.UNKNOWN_REGION:
        return Message("+%(code)s is not a country calling code. Check the digits after the +.", code=digits[:3])
    typed = digits[len(str(code)) :]
    national = phonenumbers.national_significant_number(number)
    if typed != national and typed.endswith(national):
        # phonenumbers dropped a trunk prefix (Indonesia's 0) that has no place after the country code.
        prefix = typed[: len(typed) - len(national)]
        wrong = typed[: len(prefix) + 3]
        return Message(
            "Leave out the %(prefix)s after +%(code)s: write +%(code)s %(right)s..., not +%(code)s %(wrong)s....",
            prefix=prefix,
            code=code,
            right=national[:3],
            wrong=wrong,
        )
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason in _TOO_FEW:
        return Message("This number has too few digits for +%(code)s. Check it.", code=code)
    if reason == ValidationResult.TOO_LONG:
        return Message("This number has too many digits for +%(code)s. Check it.", code=code)
    if reason == ValidationResult.INVALID_LENGTH or not phonenumbers.is_valid_number(number):
        return Message("This is not a valid phone number for +%(code)s. Check the digits after +%(code)s.", code=code)
    return None


@lru_cache(maxsize=1)
def _countries() -> dict[str, str]:
    return {country.alpha_2: country.name for country in pycountry.countries}


def country_choices() -> list[tuple[str, str]]:
    """Every ISO 3166 country as (alpha-2 code, English name), sorted by name."""
    return sorted(_countries().items(), key=lambda item: unicodedata.normalize("NFKD", item[1]))


def nationality_problem(code: str | None) -> Message | None:
    """What is wrong with an alpha-2 nationality code, or None."""
    if not code:
        return None
    if code not in _countries():
        return Message("Choose your nationality from the list.")
    return None


def profile_problems(
    email: str, full_name: str, phone: str | None, nationality: str | None, *, phone_required: bool
) -> dict[str, Message]:
    """Every problem of an account's fields, by field name."""
    found = {
        "email": email_problem(email),
        "full_name": name_problem(full_name),
        "phone": phone_problem(phone or "") if (phone_required or phone) else None,
        "nationality": nationality_problem(nationality),
    }
    return {field: message for field, message in found.items() if message}
