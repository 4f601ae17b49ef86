"""Template helpers of texts: the live character counter under a Text back box."""

import json

from django import template
from django.utils.html import format_html

from members.texts import GSM7_BASIC, GSM7_EXTENSION, counter_words, sms_length

register = template.Library()


@register.simple_tag
def sms_counter(prefix: str, pk, text: str = ""):
    """The counter under the text box of id `prefix` + `pk`, "0 / 160 characters · 1 SMS" (its own id is the box's
    and "-count", for the box's aria-describedby), written here for `text` (the words a refused form kept) and kept
    up by desk.js (`data-sms-counter`) as one types or picks a saved answer. It carries the send's GSM-7 alphabet
    (`texts`), so the script counts with the send's characters: a text outside it is UCS-2, 70 to a text."""
    box = f"{prefix}{pk}"
    length = sms_length(text or "")
    return format_html('<p class="small {}" id="{}-count" data-sms-counter="{}" data-gsm7="{}" '
                       'data-gsm7-extension="{}">{}</p>', "sms-too-long" if length.segments > 1 else "muted", box,
                       box, json.dumps("".join(sorted(GSM7_BASIC))), json.dumps("".join(sorted(GSM7_EXTENSION))),
                       counter_words(length))
