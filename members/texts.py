"""Text templates: safe placeholder rendering and SMS length in segments (pure functions).

A template may use only the named placeholders in PLACEHOLDERS ({first_name}, {store}, {coupon}
...); attribute or index access ({member.store}), conversions and format specs are refused, so a
template written in the admin can never reach into objects. Literal braces are written {{ and }}.

Length: a text that fits the GSM 03.38 alphabet is GSM-7 (160 characters in one segment, 153 per
segment when split; the extension characters ^ { } [ ] ~ | € \\ and form feed take two). Anything
else goes as UCS-2 (70 UTF-16 units, 67 per segment when split; emoji take two units).
"""

from __future__ import annotations

import string
from collections.abc import Collection
from dataclasses import dataclass

PLACEHOLDERS = {
    "first_name": "Member's first name",
    "name": "Member's full name",
    "store": "Store name",
    "coupon": "Coupon code (each member texted gets their own coupon)",
    "coupon_value": "What the coupon is worth",
    "valid_until": "Last day the coupon is valid",
    "holiday": "Holiday or festival name",
    "order": "Order number (after-sales texts)",
    "tier": "Member tier",
}
# What a text filled from the member alone may use (`sending.member_context` fills these).
MEMBER_PLACEHOLDERS = ("first_name", "name", "store", "tier")
# What a saved answer may use: the member's, and {order}, which only a bad-review case with an order fills (an answer
# using it is offered there only: `replies.offer_saved_answers`). It knows no coupon or holiday.
ANSWER_PLACEHOLDERS = (*MEMBER_PLACEHOLDERS, "order")
# The long but realistic member a saved answer is checked for at save, by the text's alphabet (a Chinese store's
# text greets a Chinese name, four characters with a two-character surname): it must stay one SMS for nearly every
# member; the store's own name is filled as it is, and the send checks each text as filled.
LONG_MEMBER = {
    "GSM-7": {"first_name": "Christopher", "name": "Christopher Montgomery", "tier": "standard"},
    "UCS-2": {"first_name": "欧阳思远", "name": "欧阳思远", "tier": "standard"},
}
# The long order an {order} in a saved answer is checked for at save: a channel's 13-digit order id, as a case's
# order without a name (#1042) shows it (`Order.display_name`).
LONG_ORDER = "#5001234567890"

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")


class TemplateError(ValueError):
    """The template uses a placeholder that does not exist or a form that is not allowed."""


def placeholders_in(body: str, allowed: Collection[str] = PLACEHOLDERS) -> list[str]:
    """The placeholder names used by `body`; raises TemplateError for anything not `allowed`."""
    names = []
    try:
        parsed = list(string.Formatter().parse(body))
    except ValueError as exc:
        raise TemplateError(f"Unbalanced braces: {exc}. Write a literal brace as {{{{ or }}}}.") from None
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if field not in allowed:
            choices = ", ".join("{" + p + "}" for p in allowed)
            # {coupon} in a saved answer is a real placeholder with nothing to fill it: not "unknown".
            problem = "Placeholder {%s} has no value here" if field in PLACEHOLDERS else "Unknown placeholder {%s}"
            raise TemplateError(f"{problem % field}. Use one of: {choices}.")
        if spec or conversion:
            raise TemplateError(f"Placeholder {{{field}}} cannot have a format or conversion.")
        names.append(field)
    return names


def render(body: str, context: dict[str, object]) -> str:
    """Fill the placeholders of `body` from `context`. A missing or empty value takes the spaces just
    before it with it, so "Hi {first_name}, thanks" reads "Hi, thanks" for a member with no name."""
    placeholders_in(body)
    text = ""
    for literal, field, _spec, _conversion in string.Formatter().parse(body):
        text += literal
        if field is not None:
            value = "" if context.get(field) is None else str(context[field])
            text = text + value if value else text.rstrip(" \u3000")
    return text


@dataclass(frozen=True)
class Length:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int
    per_segment: int  # capacity of each segment at this length (160/153 or 70/67)

    @property
    def remaining(self) -> int:
        """Units left in the last segment before another segment starts."""
        return self.segments * self.per_segment - self.units if self.units else self.per_segment


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def _count_segments(sizes: list[int], single: int, multi: int) -> int:
    total = sum(sizes)
    if total <= single:
        return 1
    segments, used = 1, 0
    for size in sizes:  # a character (an escape pair, a surrogate pair) is never split across segments
        if used + size > multi:
            segments += 1
            used = 0
        used += size
    return segments


def sms_length(text: str) -> Length:
    """Encoding, size and number of SMS segments `text` will be sent as."""
    if is_gsm7(text):
        sizes = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
        segments = _count_segments(sizes, 160, 153)
        return Length("GSM-7", sum(sizes), segments, 160 if segments == 1 else 153)
    sizes = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    segments = _count_segments(sizes, 70, 67)
    return Length("UCS-2", sum(sizes), segments, 70 if segments == 1 else 67)


SAMPLE_CONTEXT = {"first_name": "Mei", "name": "Mei Lin", "store": "Jade Tea House", "coupon": "JT-7KQ2-M9XD",
                  "coupon_value": "¥20 off", "valid_until": "2026-12-31", "holiday": "Spring Festival",
                  "order": "100123", "tier": "gold"}


def preview(body: str, context: dict[str, object] | None = None) -> tuple[str, Length]:
    """The rendered text (with sample values unless given) and its length, for the template page."""
    text = render(body, {**SAMPLE_CONTEXT, **(context or {})})
    return text, sms_length(text)


def answer_problem(body: str) -> str:
    """Why `body` cannot be an operator's answer to a reply ("" if it can): it must be one text, one SMS segment,
    so the customer gets it whole and it costs one text. The members' pages and a bad-review case both ask it."""
    if not body.strip():
        return "Write the answer: an empty text is not sent."
    length = sms_length(body)
    if length.segments > 1:
        limit = one_text_limit(length)
        kind = "" if length.encoding == "GSM-7" else " with characters beyond plain Latin (Chinese, emoji…)"
        return (f"The answer is {length.units} characters long; one text holds {limit}{kind}. Shorten it by "
                f"{length.units - limit}.")
    return ""


def long_example(body: str, store: str) -> dict[str, str]:
    """The long but realistic member (LONG_MEMBER, by the alphabet of the text) and order (LONG_ORDER) a saved answer
    of `store` is checked for, as a `render` context."""
    return {**LONG_MEMBER["GSM-7" if is_gsm7(render(body, {"store": store})) else "UCS-2"], "store": store,
            "order": LONG_ORDER}


def saved_answer_problem(body: str, store: str) -> str:
    """Why `body` cannot be a saved answer of `store` ("" if it can): it may use the member's placeholders and
    {order} only (TemplateError otherwise) and, filled for a long name and order (`long_example`), must pass
    `answer_problem`."""
    used = placeholders_in(body, ANSWER_PLACEHOLDERS)
    example = long_example(body, store)
    problem = answer_problem(render(body, example))
    if not problem:
        return ""
    named = [f"a member named “{example[p]}”" for p in ("name", "first_name") if p in used][:1]
    named += [f"order {LONG_ORDER}"] if "order" in used else []
    return f"Filled in for {' and '.join(named)}: {problem}" if named else problem


# A fill this close to one text's limit (its units above this share of it) is flagged on the saved answers page.
NEAR_LIMIT = 0.9


def one_text_limit(length: Length) -> int:
    """What one SMS holds in `length`'s alphabet: 160 GSM-7 characters, 70 UCS-2 units."""
    return 160 if length.encoding == "GSM-7" else 70


@dataclass(frozen=True)
class Fill:
    """A text as filled for one member, measured as the send measures it (`sms_length`)."""

    text: str
    length: Length

    @property
    def words(self) -> str:
        return counter_words(self.length)

    @property
    def too_long(self) -> bool:
        """More than one SMS: the send refuses it (`answer_problem`)."""
        return self.length.segments > 1

    @property
    def near_limit(self) -> bool:
        return not self.too_long and self.length.units > NEAR_LIMIT * one_text_limit(self.length)


def fill(body: str, context: dict[str, object]) -> Fill:
    text = render(body, context)
    return Fill(text, sms_length(text))


def counter_words(length: Length) -> str:
    """The Text back box's counter, in the words desk.js writes as one types (`data-sms-counter`): "87 / 160
    characters · 1 SMS", or "Too long for one text: 172 / 160 — shorten it" for a text the send refuses."""
    limit = one_text_limit(length)
    if length.units > limit:
        return f"Too long for one text: {length.units} / {limit} — shorten it"
    return f"{length.units} / {limit} characters · 1 SMS"
