"""The fields of an account and their rules: e-mail address, full name, phone number, nationality.

Phone numbers are kept in E.164 form (``+6281234567890``): a country calling code
from the ITU list, then the national number, 8 to 15 digits in all.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import pycountry

MAX_EMAIL = 254
MAX_NAME = 200

# ITU-T E.164 country calling codes in use. They are prefix-free, so the code of a number is the
# one of its first 1, 2 or 3 digits found here.
CALLING_CODES = frozenset(
    "1 7 20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 "
    "60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98 "
    "211 212 213 216 218 220 221 222 223 224 225 226 227 228 229 230 231 232 233 234 235 236 237 238 239 "
    "240 241 242 243 244 245 246 247 248 249 250 251 252 253 254 255 256 257 258 260 261 262 263 264 265 "
    "266 267 268 269 290 291 297 298 299 "
    "350 351 352 353 354 355 356 357 358 359 370 371 372 373 374 375 376 377 378 379 380 381 382 383 385 "
    "386 387 389 420 421 423 "
    "500 501 502 503 504 505 506 507 508 509 590 591 592 593 594 595 596 597 598 599 "
    "670 672 673 674 675 676 677 678 679 680 681 682 683 685 686 687 688 689 690 691 692 "
    "850 852 853 855 856 880 886 "
    "960 961 962 963 964 965 966 967 968 970 971 972 973 974 975 976 977 992 993 994 995 996 998".split()
)
INDONESIA = "62"
PHONE_EXAMPLE = "+62 812 3456 7890"

_LOCAL_PART = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_DOMAIN_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_TOP_LEVEL = re.compile(r"^([a-z]{2,63}|xn--[a-z0-9-]{1,59})$")


def normalize_email(raw: str) -> str:
    """An e-mail address as stored: trimmed, lower-case, an international domain in its ASCII form."""
    email = raw.strip().lower()
    local, at, domain = email.rpartition("@")
    if not at or not domain:
        return email
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        pass  # left as typed; email_problem explains what is wrong with it
    return f"{local}@{domain}"


def email_problem(email: str) -> str | None:
    """What is wrong with a normalized e-mail address, or None."""
    if not email:
        return "Enter your e-mail address; we send the confirmation link and case news to it."
    example = "Write it as name@example.com."
    if len(email) > MAX_EMAIL:
        return f"This address is longer than {MAX_EMAIL} characters. Check it for pasted extra text."
    local, at, domain = email.rpartition("@")
    if not at or not local:
        return f"This is not an e-mail address: the @ and the part before it are missing. {example}"
    if len(local) > 64 or not _LOCAL_PART.match(local):
        return f"The part before the @ has characters an e-mail address cannot have. {example}"
    labels = domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.match(label) for label in labels) or not _TOP_LEVEL.match(labels[-1]):
        return f"The part after the @ is not a valid domain (like example.com or mail.co.id). {example}"
    return None


def name_problem(full_name: str) -> str | None:
    """What is wrong with a full name (already trimmed and with single spaces), or None."""
    if not full_name:
        return "Enter your full name as it is written in your passport."
    if len(full_name) > MAX_NAME:
        return f"Use at most {MAX_NAME} characters (this name has {len(full_name)})."
    if any(unicodedata.category(ch).startswith("C") for ch in full_name):
        return "The name contains invisible control characters. Type it again instead of pasting it."
    if not any(ch.isalpha() for ch in full_name):
        return "A name needs letters. Enter your full name as it is written in your passport."
    return None


def normalize_phone(raw: str) -> str:
    """A phone number without spaces, dashes, dots or brackets; a leading ``00`` becomes ``+``."""
    phone = re.sub(r"[\s\-().\u00a0]", "", raw.strip())
    return "+" + phone[2:] if phone.startswith("00") else phone


def calling_code(digits: str) -> str | None:
    """The country calling code at the start of ``digits`` (without +), or None."""
    for size in (1, 2, 3):
        if digits[:size] in CALLING_CODES:
            return digits[:size]
    return None


def phone_problem(phone: str) -> str | None:
    """What is wrong with a normalized phone number, or None."""
    if not phone:
        return f"Enter a phone number with its country code, for example {PHONE_EXAMPLE}."
    if not phone.startswith("+"):
        return f"Start with + and the country code (+62 for Indonesia), for example {PHONE_EXAMPLE}."
    digits = phone[1:]
    if not re.fullmatch(r"[0-9]+", digits):
        return "Use only digits after the + (spaces and dashes are fine)."
    code = calling_code(digits)
    if code is None:
        return f"+{digits[:3]} is not a country calling code. Check the digits after the +."
    national = digits[len(code) :]
    if code == INDONESIA and national.startswith("0"):
        return "Leave out the 0 after +62: write +62 812..., not +62 0812...."
    if not 8 <= len(digits) <= 15 or len(national) < 4:
        return f"This number has {len(digits)} digits; a full international number has 8 to 15. Check it."
    if code == INDONESIA and not 8 <= len(national) <= 12:
        return f"An Indonesian number has 8 to 12 digits after +62 (this one has {len(national)})."
    return None


@lru_cache(maxsize=1)
def _countries() -> dict[str, str]:
    return {country.alpha_2: country.name for country in pycountry.countries}


def country_choices() -> list[tuple[str, str]]:
    """Every ISO 3166 country as (alpha-2 code, English name), sorted by name."""
    return sorted(_countries().items(), key=lambda item: unicodedata.normalize("NFKD", item[1]))


def nationality_problem(code: str | None) -> str | None:
    """What is wrong with an alpha-2 nationality code, or None."""
    if not code:
        return None
    if code not in _countries():
        return "Choose your nationality from the list."
    return None


def profile_problems(
    email: str, full_name: str, phone: str | None, nationality: str | None, *, phone_required: bool
) -> dict[str, str]:
    """Every problem of an account's fields, by field name."""
    found = {
        "email": email_problem(email),
        "full_name": name_problem(full_name),
        "phone": phone_problem(phone or "") if (phone_required or phone) else None,
        "nationality": nationality_problem(nationality),
    }
    return {field: message for field, message in found.items() if message}
