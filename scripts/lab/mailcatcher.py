#!/usr/bin/env python3
"""The lab's mail catcher: a minimal SMTP server on loopback that writes every message it receives to
MAILDIR as one ``.eml`` file (the envelope recipients first, as ``X-Lab-Rcpt-To`` headers).

Moodle sends mail inline in some web-service calls (a new user's password, for one); the lab points
``$CFG->smtphosts`` here so tests can count what Moodle really sent. Standard library only.

Usage: mailcatcher.py --port 8482 --maildir /var/lib/moodle-lab/mail
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import socket
import time
from pathlib import Path

_counter = itertools.count(1)


class Session:
    """One SMTP conversation: HELO/EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    def __init__(self, maildir: Path, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.maildir, self.reader, self.writer = maildir, reader, writer
        self.sender = ""
        self.recipients: list[str] = []

    async def reply(self, line: str) -> None:
        self.writer.write(line.encode() + b"\r\n")
        await self.writer.drain()

    def quick_ack(self) -> None:
        """Acknowledge at once: PHPMailer writes a message line by line, and with the client's Nagle and our
        delayed ACK every message would wait ~40 ms on loopback, a delay of this catcher, not of Moodle."""
        sock = self.writer.get_extra_info("socket")
        if sock is not None and hasattr(socket, "TCP_QUICKACK"):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)

    async def run(self) -> None:
        await self.reply("220 moodle-lab mail catcher")
        while line := await self.readline():
            verb, _, rest = line.decode("utf-8", "replace").strip().partition(" ")
            verb = verb.upper()
            if verb in ("EHLO", "HELO"):
                await self.reply("250 moodle-lab")
            elif verb == "MAIL":
                self.sender, self.recipients = rest.partition(":")[2].strip(), []
                await self.reply("250 OK")
            elif verb == "RCPT":
                self.recipients.append(rest.partition(":")[2].strip().strip("<>"))
                await self.reply("250 OK")
            elif verb == "DATA":
                await self.reply("354 End data with <CR><LF>.<CR><LF>")
                await self.save(await self.read_data())
                await self.reply("250 OK: queued")
            elif verb == "RSET":
                self.sender, self.recipients = "", []
                await self.reply("250 OK")
            elif verb == "NOOP":
                await self.reply("250 OK")
            elif verb == "QUIT":
                await self.reply("221 Bye")
                break
            else:
                await self.reply("502 Command not implemented")
        self.writer.close()

    async def readline(self) -> bytes:
        line = await self.reader.readline()
        self.quick_ack()
        return line

    async def read_data(self) -> bytes:
        lines: list[bytes] = []
        while (line := await self.readline()) and line.rstrip(b"\r\n") != b".":
            lines.append(line[1:] if line.startswith(b"..") else line)
        return b"".join(lines)

    async def save(self, message: bytes) -> None:
        header = "".join(f"X-Lab-Rcpt-To: {r}\r\n" for r in self.recipients).encode()
        name = f"{time.time_ns()}-{os.getpid()}-{next(_counter)}.eml"
        tmp = self.maildir / f".{name}.tmp"
        tmp.write_bytes(header + message)
        tmp.rename(self.maildir / name)  # whole files only: readers never see half a message


async def serve(port: int, maildir: Path) -> None:
    maildir.mkdir(parents=True, exist_ok=True)
    server = await asyncio.start_server(lambda r, w: Session(maildir, r, w).run(), "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--maildir", type=Path, required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.maildir))


if __name__ == "__main__":
    main()
