"""A tiny IMAP4rev1 server over a real socket, enough for IMAPClient: LOGIN, SELECT, UID SEARCH
UNSEEN, UID FETCH BODY.PEEK[], UID STORE +FLAGS (\\Seen), LOGOUT. `on_seen(uid)` runs when the
client flags a message, so a test can check what was committed by then."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class Mailbox:
    def __init__(self, messages: list[bytes]) -> None:
        self.messages = dict(enumerate(messages, 1))
        self.seen: set[int] = set()
        self.log: list[str] = []  # what the client did, in order
        self.on_seen: Callable[[int], str] = lambda uid: ""


class _Handler(socketserver.StreamRequestHandler):
    mailbox: Mailbox

    def handle(self) -> None:
        self._send(b"* OK IMAP4rev1 test server ready")
        while line := self.rfile.readline():
            tag, _, rest = line.decode().rstrip("\r\n").partition(" ")
            command, _, args = rest.partition(" ")
            command = command.upper()
            if command == "UID":
                command, _, args = args.partition(" ")
                command = f"UID {command.upper()}"
            box = self.mailbox
            if command == "CAPABILITY":
                self._send(b"* CAPABILITY IMAP4rev1")
            elif command == "LOGIN":
                box.log.append(f"login {args}")
            elif command == "SELECT":
                box.log.append(f"select {args}")
                self._send(f"* {len(box.messages)} EXISTS".encode())
                self._send(b"* FLAGS (\\Seen)")
                self._send(b"* OK [UIDVALIDITY 1] ok")
                self._send(f"{tag} OK [READ-WRITE] SELECT completed".encode())
                continue
            elif command == "UID SEARCH":
                unseen = [str(u) for u in box.messages if u not in box.seen]
                self._send(("* SEARCH " + " ".join(unseen)).strip().encode())
            elif command == "UID FETCH":
                uid = int(args.split(" ")[0])
                raw = box.messages[uid]
                box.log.append(f"fetch {uid}")
                self._send(f"* {uid} FETCH (UID {uid} BODY[] {{{len(raw)}}}".encode())
                self.wfile.write(raw + b")\r\n")
            elif command == "UID STORE":
                uid = int(args.split(" ")[0])
                box.log.append(f"seen {uid} {box.on_seen(uid)}".rstrip())
                box.seen.add(uid)
                self._send(f"* {uid} FETCH (UID {uid} FLAGS (\\Seen))".encode())
            elif command == "LOGOUT":
                self._send(b"* BYE")
                self._send(f"{tag} OK LOGOUT completed".encode())
                return
            self._send(f"{tag} OK {command} completed".encode())

    def _send(self, data: bytes) -> None:
        self.wfile.write(data + b"\r\n")


@contextmanager
def serving(box: Mailbox) -> Iterator[int]:
    """Serve `box` on a free loopback port; yields the port."""
    handler = type("Handler", (_Handler,), {"mailbox": box})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
