"""Addresses per channel: their SQL at staging (normalize, approximate validity, duplicate key)
and the exact check at send time.

Staging must not loop over the population in Python, so it uses SQL: ``normalized_sql`` (email
and push tokens trimmed; phone numbers stripped of spaces, dots, dashes and parentheses),
``invalid_sql`` (an email regex close to email-validator's syntax rules, 254 characters at most;
E.164 for SMS: ``+`` then 7 to 15 digits, no leading 0) and ``dedupe_sql`` (lower-cased email).
The exact check (``exact``: email-validator without DNS, phonenumbers' ``is_valid_number``) runs
in the sender on each message just before it goes; an address that fails it is excluded there as
``invalid_address`` (its own terminal fate, never sent), so both checks count under one reason.
"""

import re

import email_validator
import phonenumbers

EMAIL_RE = (
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]{0,61}[A-Za-z0-9]$"
)
E164_RE = r"^\+[1-9][0-9]{6,14}$"


def normalized_sql(channel: str, column: str) -> str:
    if channel == "sms":
        return f"NULLIF(regexp_replace({column}, '[[:space:]().-]', '', 'g'), '')"
    return f"NULLIF(btrim({column}), '')"


def invalid_sql(channel: str, address: str = "address") -> tuple[str, list]:
    """``(sql, params)``: true when the normalized ``address`` is not a valid one."""
    if channel == "email":
        return (
            f"(length({address}) > 254 OR {address} !~ %s "
            f"OR length(split_part({address}, '@', 1)) > 64)",
            [EMAIL_RE],
        )
    if channel == "sms":
        return f"({address} !~ %s)", [E164_RE]
    return f"(length({address}) > 4096 OR {address} ~ '[[:space:]]')", []


def dedupe_sql(channel: str, address: str = "address") -> str:
    return f"lower({address})" if channel == "email" else address


def exact(channel: str, address: str) -> str | None:
    """None when ``address`` is valid for ``channel``, else why not."""
    if channel == "email":
        try:
            email_validator.validate_email(address, check_deliverability=False)
        except email_validator.EmailNotValidError as exc:
            return str(exc)
        return None
    if channel == "sms":
        try:
            number = phonenumbers.parse(address, None)
        except phonenumbers.NumberParseException as exc:
            return str(exc)
        return None if phonenumbers.is_valid_number(number) else "not a valid phone number"
    return None


def canonical(channel: str, address: str) -> str:
    """The key an address is matched by in consents and suppressions: what ``normalized_sql``
    then ``dedupe_sql`` make of it at staging (lower-cased trimmed email, E.164 digits)."""
    address = (address or "").strip()
    if channel == "sms":
        return re.sub(r"[\s().-]", "", address)
    return address.lower() if channel == "email" else address
