"""Keeping personal data out of logs and off screens that do not need it."""


def mask_phone(phone: str) -> str:
    """+8613800138000 -> +86*******8000: enough to recognise, not enough to dial."""
    if not phone:
        return ""
    keep_head = 3 if phone.startswith("+") else 0
    if len(phone) <= keep_head + 4:
        return "*" * len(phone)
    return phone[:keep_head] + "*" * (len(phone) - keep_head - 4) + phone[-4:]
