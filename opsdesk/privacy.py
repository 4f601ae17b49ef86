"""Keeping personal data out of logs and off screens that do not need it."""

import unicodedata

# As many digits as the member search reads as a phone number rather than a name.
PHONE_DIGITS = 6


def mask_phone(phone: str) -> str:
    """+8613800138000 -> +86*******8000: enough to recognise, not enough to dial."""
    if not phone:
        return ""
    keep_head = 3 if phone.startswith("+") else 0
    if len(phone) <= keep_head + 4:
        return "*" * len(phone)
    return phone[:keep_head] + "*" * (len(phone) - keep_head - 4) + phone[-4:]


def mask_typed_phone(text: str) -> str:
    """Text typed into a search box, masked if it holds a phone number ("(415) 555-0100" -> "**********0100"),
    else as typed: a name stays readable."""
    text = unicodedata.normalize("NFKC", text).strip()  # full-width digits from a Chinese input method
    digits = sum(c.isascii() and c.isdigit() for c in text)
    return mask_phone(text) if digits >= PHONE_DIGITS else text
