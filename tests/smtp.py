"""A real SMTP server for the tests (aiosmtpd), on a free port of localhost, that records what it
receives. The Celery worker of the tests sends through it (EMAIL_URL), so a test sees exactly the
e-mails a deployment's mail server would. `stop()` takes it down (the SMTP-down tests), `start()`
brings it back on the same port."""
import asyncio
import email
import socket
import threading
import time
from email import policy

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Recorder:
    def __init__(self, server):
        self.server = server

    async def handle_DATA(self, smtp, session, envelope):
        with self.server.lock:
            self.server.started += 1
        if self.server.delay:
            # A slow server. Should the client vanish meanwhile (a worker killed), aiosmtpd cancels
            # this handler: the message was never acknowledged, so it is not recorded as received.
            await asyncio.sleep(self.server.delay)
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self.server.lock:
            self.server.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class RecordingSMTPServer:
    def __init__(self):
        self.port = free_port()
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.lock = threading.Lock()
        self.controller = None
        self.delay = 0.0  # seconds each message takes before "250"
        self.started = 0  # messages whose DATA began, acknowledged or not

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self):
        self.controller = Controller(_Recorder(self), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def received_by(self, address: str) -> list[email.message.EmailMessage]:
        with self.lock:
            return [message for recipients, message in self.messages if address in recipients]

    def wait_started(self, count: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.started < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {self.started} message(s) began, not {count}")
            time.sleep(0.01)

    def wait_for(self, address: str, count: int, timeout: float = 30.0) -> list[email.message.EmailMessage]:
        """Until `address` has received `count` messages (then a short settle, to see any extra one)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.received_by(address)) >= count:
                time.sleep(0.3)
                return self.received_by(address)
            time.sleep(0.05)
        raise TimeoutError(f"{address} received {len(self.received_by(address))} message(s), not {count}.")


def body_text(message: email.message.EmailMessage) -> str:
    """The plain text and the HTML of a received message, decoded, for "never holds a secret" checks."""
    parts = []
    for part in message.walk():
        if part.get_content_type() in ("text/plain", "text/html"):
            parts.append(part.get_content())
    return str(message["Subject"]) + "\n" + "\n".join(parts)
