"""Texts written as files, one per message, in settings.SMS_FILE_PATH (var/sms/ unless set).

The file is named after the Message id and written atomically, so `lookup` can tell for sure
whether a text already went out: a re-attempt after a crash finds the file and does not resend.
"""

import os
import tempfile
import uuid
from pathlib import Path

from django.conf import settings

from . import BaseBackend, SendResult


class FileBackend(BaseBackend):
    @property
    def folder(self) -> Path:
        path = Path(settings.SMS_FILE_PATH)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def path_for(self, message) -> Path:
        return self.folder / f"message-{message.pk}.txt"

    def send(self, message) -> SendResult:
        sid = f"FI{uuid.uuid4().hex}"
        content = (f"SID: {sid}\nTo: {message.member.phone}\nFlow: {message.flow}\nOccasion: {message.occasion}\n"
                   f"\n{message.body}\n")
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".sms-")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
        try:
            os.link(tmp, self.path_for(message))  # fails if the text was already written: never twice
        except FileExistsError:
            return self.lookup(message, None)
        finally:
            os.unlink(tmp)
        return SendResult(sid=sid)

    def lookup(self, message, since) -> SendResult | None:
        path = self.path_for(message)
        if not path.exists():
            return None
        first_line = path.read_text(encoding="utf-8").split("\n", 1)[0]
        return SendResult(sid=first_line.removeprefix("SID: ").strip())
