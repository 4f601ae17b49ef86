"""What a member's reply asks for: opt out, opt back in, help, or none of these (pure functions).

Opt-out honours Twilio's keywords (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, OPTOUT, REVOKE) and
the Chinese ones our templates name (T, TD, 退订), in any case, with any punctuation or spaces around
them, as the whole reply or its first word ("Stop, please"; "退订，谢谢"). T and TD count only as the
whole reply: as a first word they are too often something else ("T shirt arrived"). Opting back in
needs the whole reply to be START, UNSTOP or YES ("Yes thanks it arrived fine" is not consent). HELP
or INFO as the first word asks for help ("HELP the kettle is broken"). Full-width letters, which a Chinese
input method types in its full-width mode ("ＳＴＯＰ", "ＴＤ"), count as the plain ones (NFKC).

`opt_out_keywords_named(body)` finds the keyword a template tells customers to reply to unsubscribe
("回复T退订", "Reply STOP to opt out"), so a template naming a word we would ignore can be refused.
"""

from __future__ import annotations

import re
import unicodedata

from .models import ReplyKind

OPT_OUT_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE", "退订"}
OPT_OUT_ALONE = {"T", "TD"}  # only as the whole reply
OPT_IN = {"START", "UNSTOP", "YES"}
HELP = {"HELP", "INFO"}
# The opt-out and opt-in keywords Twilio's Advanced Opt-Out confirms itself (its documented defaults: ours less
# the Chinese word). Twilio documents them as single-word messages only ("STOP PLEASE" is not one) and says
# nothing of punctuation or full-width letters, so "Start." or "ＳＴＡＲＴ" is left to us to confirm: a second
# confirmation would puzzle less than none.
TWILIO_ANSWERS = (OPT_OUT_WORDS - {"退订"}) | OPT_IN

_WORD = re.compile(r"[^\W_]+")  # letters and digits of any script; punctuation, spaces, emoji separate words


def words(body: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFKC", body).upper())


def classify(body: str) -> ReplyKind:
    """What a reply's text asks for: opt out, opt in, help, or none of these (a message)."""
    found = words(body)
    if not found:
        return ReplyKind.MESSAGE
    first, whole = found[0], "".join(found)
    if first in OPT_OUT_WORDS or first.startswith("退订") or whole in OPT_OUT_ALONE or "".join(found[:2]) == "OPTOUT":
        return ReplyKind.OPT_OUT
    if len(found) == 1 and whole in OPT_IN:
        return ReplyKind.OPT_IN
    if first in HELP:
        return ReplyKind.HELP
    return ReplyKind.MESSAGE


def twilio_answers(body: str) -> bool:
    """Whether Twilio's Advanced Opt-Out confirms this opt-out or opt-in itself: exactly its keyword, in any
    case, spaces around it aside."""
    return body.strip().upper() in TWILIO_ANSWERS


_NAMED = [
    re.compile(r"回复?\s*[\"'“‘「]?\s*([A-Za-z0-9]+)\s*[\"'”’」]?\s*(?:即可|可)?退订"),  # 回复T退订, 回TD退订
    re.compile(r"退订\s*(?:请)?回(?:复)?\s*[\"'“‘「]?\s*([A-Za-z0-9\u4e00-\u9fff]+)"),  # 退订回T, 退订请回复TD
    re.compile(r"回复\s*[\"'“‘「]?\s*(退订)"),  # 回复退订
    re.compile(r"\b(?:reply|text|send|respond with)\s+[\"'“‘]?([A-Za-z0-9]+)[\"'”’]?\s+to\s+"
               r"(?:stop|unsubscribe|opt[\s-]?out|cancel|quit|end)\b", re.IGNORECASE),
]


def opt_out_keywords_named(body: str) -> list[str]:
    """The keywords `body` tells customers to reply to unsubscribe, as written."""
    return [match.group(1) for pattern in _NAMED for match in pattern.finditer(body)]


def unhandled_opt_out_keywords(body: str) -> list[str]:
    """Opt-out keywords named by `body` that would not opt anyone out here."""
    return [word for word in opt_out_keywords_named(body) if classify(word) != ReplyKind.OPT_OUT]
