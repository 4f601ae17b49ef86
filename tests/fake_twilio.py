"""A fake Twilio over real HTTP, speaking enough of the Messages API for the official client.

POST /2010-04-01/Accounts/{sid}/Messages.json creates a message (201, Twilio's JSON) and records
it; GET on the same path lists them as Twilio does: filters To / From, newest first, PageSize texts a
page (50 unless set) with a next_page_uri carrying a PageToken, each listed text already sent (status
"sent", date_sent set: Twilio hands a text on within moments; the POST answer says "queued"). Faults are
programmable: `fail_next(n, status)` (500, 429 ...), `timeout_next(n, seconds, after_create)`,
`refuse(to, code)` (21610 unsubscribed, 21211 invalid number) and a per-request `latency`.
`smart_encoding = True` stores bodies as a Messaging Service with Smart Encoding does: typographic
quotes, dashes and the ellipsis replaced by their plain GSM look-alikes (a few of Twilio's substitutions).
Runs in a thread of the test process (ThreadingHTTPServer), so a Celery worker in another
process reaches it through TWILIO_API_BASE while the test reads `server.sent` directly.

Benchmarks run it as its own process instead, so it does not share the benchmark's interpreter:

    python -m tests.fake_twilio --latency 0.05 --port-file PORT --record SENT.tsv

writes its port to PORT once listening and one line per accepted text to SENT.tsv
(received and accepted time.monotonic(), To, sid); it stops on SIGTERM.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import signal
import threading
import time
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

ERROR_MESSAGES = {
    21610: "Attempt to send to unsubscribed recipient",
    21211: "The 'To' number is not a valid phone number.",
    21604: "A 'To' phone number is required.",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
}


# A few of Twilio's Smart Encoding substitutions (Unicode → GSM-7 look-alikes).
SMART_ENCODING = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
                                "\u2014": "-", "\u2026": "...", "\u00a0": " "})


class FakeTwilio:
    def __init__(self, account_sid: str = "ACtest", auth_token: str = "test-token", latency: float = 0.0):
        self.account_sid, self.auth_token, self.latency = account_sid, auth_token, latency
        self.lock = threading.Lock()
        self.sent: list[dict] = []  # every message Twilio accepted
        self.accepted_at: list[float] = []  # time.monotonic() of each, for pacing checks
        self.received_at: list[float] = []  # when each accepted text's request arrived (before `latency`)
        self.record = None  # an open text file: one line per accepted text (the separate-process mode)
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request
        self.faults: list[tuple[str, float, bool]] = []  # ("status", code, _) or ("timeout", seconds, after_create)
        self.refused: dict[str, int] = {}
        self.smart_encoding = False
        self.server: ThreadingHTTPServer | None = None

    # --- programming faults ---------------------------------------------------------------
    def fail_next(self, n: int, status: int = 500) -> None:
        with self.lock:
            self.faults.extend([("status", status, False)] * n)

    def timeout_next(self, n: int, seconds: float, after_create: bool = False) -> None:
        with self.lock:
            self.faults.extend([("timeout", seconds, after_create)] * n)

    def refuse(self, to: str, code: int) -> None:
        self.refused[to] = code

    def sent_to(self, to: str) -> list[dict]:
        with self.lock:
            return [m for m in self.sent if m["to"] == to]

    # --- server ---------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeTwilio:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle on, the body waits for the client's
            # delayed ACK (~40 ms on Linux), a delay real Twilio does not have.
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_POST(self):
                fake.handle(self, "POST")

            def do_GET(self):
                fake.handle(self, "GET")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def _reply(self, handler, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its timeout): what Twilio would see too

    def _error(self, handler, status: int, code: int) -> None:
        self._reply(handler, status, {"code": code, "message": ERROR_MESSAGES.get(code, "Error"),
                                      "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status})

    def handle(self, handler, method: str) -> None:
        arrived = time.monotonic()
        url = urlparse(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length)
        if len(body) < length:
            return None  # the client died mid-request (a killed worker): a server never acts on half a body
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        with self.lock:
            self.requests.append((method, url.path))
        prefix = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if handler.headers.get("Authorization") != expected:
            return self._error(handler, 401, 20003)
        if url.path != prefix:
            return self._error(handler, 404, 20404)
        if self.latency:
            time.sleep(self.latency)
        if method == "GET":
            return self.list(handler, {k: v[0] for k, v in parse_qs(url.query).items()})
        with self.lock:
            fault = self.faults.pop(0) if self.faults else None
        if fault and fault[0] == "status":
            return self._error(handler, int(fault[1]), 20429 if fault[1] == 429 else 20500)
        if fault and fault[0] == "timeout":
            if fault[2]:
                self.create(form, arrived)  # Twilio took the text, the answer never arrives in time
            time.sleep(fault[1])
            return self._error(handler, 504, 20500)
        if not form.get("To"):
            return self._error(handler, 400, 21604)
        if form.get("To") in self.refused:
            return self._error(handler, 400, self.refused[form["To"]])
        return self._reply(handler, 201, self.create(form, arrived))

    def create(self, form: dict, arrived: float | None = None) -> dict:
        now = datetime.now(UTC)
        message = {
            "sid": "SM" + uuid.uuid4().hex, "account_sid": self.account_sid, "to": form.get("To"),
            "from": form.get("From"), "messaging_service_sid": form.get("MessagingServiceSid"),
            "body": form.get("Body", "").translate(SMART_ENCODING) if self.smart_encoding else form.get("Body", ""),
            "status": "queued", "num_segments": "1", "direction": "outbound-api",
            "date_created": format_datetime(now, usegmt=True), "date_updated": format_datetime(now, usegmt=True),
            "date_sent": None, "price": None, "error_code": None, "error_message": None, "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/x.json",
            "status_callback": form.get("StatusCallback"),
        }
        message["uri"] = message["uri"].replace("x.json", message["sid"] + ".json")
        with self.lock:
            self.sent.append(message)
            accepted = time.monotonic()
            self.accepted_at.append(accepted)
            self.received_at.append(arrived if arrived is not None else accepted)
            if self.record:
                self.record.write(f"{self.received_at[-1]:.6f}\t{accepted:.6f}\t{message['to']}\t{message['sid']}\n")
        return message

    def list(self, handler, query: dict) -> None:
        with self.lock:
            found = [{**m, "status": "sent", "date_sent": m["date_created"]} for m in reversed(self.sent)
                     if (not query.get("To") or m["to"] == query["To"])
                     and (not query.get("From") or m["from"] == query["From"])]
        size, page = int(query.get("PageSize", 50)), int(query.get("Page", 0))
        # Like Twilio's, the token marks where the last page ended (the text after it starts this one), so
        # texts created meanwhile do not shift the next page.
        start = next((i + 1 for i, m in enumerate(found) if "PA" + m["sid"] == query.get("PageToken")), 0)
        rows = found[start:start + size]
        next_uri = None
        if start + size < len(found):
            params = {**{k: query[k] for k in ("To", "From") if query.get(k)}, "PageSize": size,
                      "Page": page + 1, "PageToken": "PA" + rows[-1]["sid"]}
            next_uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json?{urlencode(params)}"
        self._reply(handler, 200, {"messages": rows, "page": page, "page_size": size, "start": start,
                                   "end": start + max(0, len(rows) - 1), "next_page_uri": next_uri,
                                   "previous_page_uri": None, "first_page_uri": "", "uri": ""})

def main() -> None:
    parser = argparse.ArgumentParser(description="Run the fake Twilio as its own process until SIGTERM.")
    parser.add_argument("--account-sid", default="ACbench")
    parser.add_argument("--auth-token", default="bench-token")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per request")
    parser.add_argument("--port-file", required=True, help="written (atomically) with the port once listening")
    parser.add_argument("--record", required=True, help="one line per accepted text: received, accepted, To, sid")
    args = parser.parse_args()
    fake = FakeTwilio(args.account_sid, args.auth_token, latency=args.latency)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with open(args.record, "w", buffering=1) as record:
        fake.record = record
        fake.start()
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(fake.server.server_address[1]))
        os.replace(tmp, args.port_file)
        while not stop.wait(0.5):
            pass
        fake.stop()
        with fake.lock:
            fake.record = None


if __name__ == "__main__":
    main()
