"""The SMTP sink of bench/send.py, run as a separate process: aiosmtpd on 127.0.0.1 that accepts
every message and keeps only its Message-ID (memory: about 40 bytes a message).

``python bench/send_sink.py PORT STATUS_FILE IDS_FILE``: every 0.2 s it writes
``<count> <time of the last message>`` to STATUS_FILE; on SIGTERM it writes the Message-IDs,
one a line, to IDS_FILE and exits. (No ``__main__`` guard: ``make bench`` runs only the scripts
that have one, and this is not a benchmark.)"""

import asyncio
import signal
import sys
import threading
import time

from aiosmtpd.controller import Controller


class Keep:
    def __init__(self):
        self.ids, self.last = [], 0.0

    async def handle_DATA(self, server, session, envelope):
        content = envelope.original_content or envelope.content
        head = content[: content.find(b"\r\n\r\n")]
        for line in head.split(b"\r\n"):
            if line[:11].lower() == b"message-id:":
                self.ids.append(line[11:].strip().decode())
                break
        else:
            self.ids.append("")
        self.last = time.time()
        return "250 OK"


def run(port, status_file, ids_file):
    keep = Keep()
    controller = Controller(keep, hostname="127.0.0.1", port=port, decode_data=False)
    controller.start()
    stop = threading.Event()

    def finish(*_):
        stop.set()

    signal.signal(signal.SIGTERM, finish)
    signal.signal(signal.SIGINT, finish)
    while not stop.is_set():
        with open(status_file, "w") as out:
            out.write(f"{len(keep.ids)} {keep.last}\n")
        stop.wait(0.2)
    controller.stop()
    with open(ids_file, "w") as out:
        out.write("\n".join(keep.ids))
    with open(status_file, "w") as out:
        out.write(f"{len(keep.ids)} {keep.last}\n")


if sys.argv[0].endswith("send_sink.py"):
    asyncio.set_event_loop(asyncio.new_event_loop())
    run(int(sys.argv[1]), sys.argv[2], sys.argv[3])
