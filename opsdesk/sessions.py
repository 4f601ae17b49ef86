"""The session engine: Django's database sessions, taking from the cookie only a key Django could have made."""

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS


class SessionStore(db.SessionStore):
    def _validate_session_key(self, key):
        # The cookie `sessionid="abcdefgh\000"` is plain ASCII on the wire and unquotes to a NUL, which Postgres
        # refuses in the lookup: a 500 on every page, the log-in page too. A key Django never makes is no session.
        return super()._validate_session_key(key) and set(key) <= set(VALID_KEY_CHARS)
