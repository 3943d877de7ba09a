"""``DatabaseStorage``: a Django storage backend whose files live in PostgreSQL, so every host of
an installation reads what any host wrote (uploaded CSV files now, campaign files later). The
default of ``STORAGES["uploads"]`` (README, ``UPLOADS_STORAGE``).

Contract: a file is a ``StoredFile`` row (unique ``name``, ``size``) and its bytes are
``FileChunk`` rows of ``CHUNK`` bytes (the last one shorter), stored uncompressed (``STORAGE
EXTERNAL``: reading a slice touches only its pages). Saving streams the content with one binary
``COPY`` in the caller's transaction (a rolled-back upload leaves nothing); opening gives a
seekable binary file that holds a chunk or three at a time (read ahead on a connection of its
own outside a transaction, so it can feed a COPY on the default one), so memory does not grow
with the file either way. Names are made unique the Django way (``get_available_name``).
Files have no URL: they are read by the application, never served.
"""

import io
import queue
import threading

import psycopg
from django.core.files import File
from django.core.files.storage import Storage
from django.db import connection, transaction
from django.utils.deconstruct import deconstructible

CHUNK = 1 << 20
CHUNK_TABLE = "audiences_filechunk"


def _stored_files():
    # Imported late: the storage is built while audiences.models is being defined.
    from audiences.models import StoredFile

    return StoredFile.objects


SELECT_CHUNK = f"SELECT data FROM {CHUNK_TABLE} WHERE file_id = %s AND index = %s"


class _ReadAhead(threading.Thread):
    """Fetches chunks ``first`` to the last one in order, on a connection of its own, at most
    two ahead of the reader (so reading overlaps with what the reader does with them)."""

    def __init__(self, params, file_id, first, count):
        super().__init__(daemon=True)
        self.params, self.file_id, self.first, self.count = params, file_id, first, count
        self.chunks, self.stopped = queue.Queue(maxsize=2), threading.Event()
        self.start()

    def _put(self, item):
        while not self.stopped.is_set():
            try:
                self.chunks.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def run(self):
        try:
            with psycopg.connect(**self.params, autocommit=True) as conn:
                for index in range(self.first, self.count):
                    if self.stopped.is_set():
                        return
                    row = conn.execute(SELECT_CHUNK, [self.file_id, index], binary=True).fetchone()
                    self._put(bytes(row[0]) if row else b"")
        except Exception as exc:  # handed to the reader, which raises it
            self._put(exc)

    def take(self):
        item = self.chunks.get()
        if isinstance(item, Exception):
            raise item
        return item

    def stop(self):
        self.stopped.set()
        self.join(timeout=10)


class _ChunkReader(io.RawIOBase):
    """A seekable raw binary reader over the chunks of one stored file. Outside a transaction it
    reads ahead on a connection of its own (``streams``), so the file can feed a COPY running on
    the default connection at full speed; inside one it reads on the default connection, where
    chunks written in the same transaction are visible."""

    def __init__(self, file_id, size):
        super().__init__()
        self.file_id, self.size, self.position = file_id, size, 0
        self.count = -(-size // CHUNK)
        self.params = None
        if not connection.in_atomic_block:
            self.params = connection.get_connection_params()
            self.params.pop("cursor_factory", None)
            self.params.pop("context", None)
        self.streams = self.params is not None
        self._ahead, self._chunk, self._index = None, b"", -1

    def close(self):
        if self._ahead is not None:
            self._ahead.stop()
            self._ahead = None
        super().close()

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self.position

    def seek(self, offset, whence=io.SEEK_SET):
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def _fetch(self, index):
        """The bytes of chunk ``index``."""
        if not self.streams:
            with connection.cursor() as cursor:
                cursor.execute(SELECT_CHUNK, [self.file_id, index])
                row = cursor.fetchone()
            return bytes(row[0]) if row else b""
        if self._ahead is None or index != self._index + 1:
            if self._ahead is not None:
                self._ahead.stop()
            self._ahead = _ReadAhead(self.params, self.file_id, index, self.count)
        return self._ahead.take()

    def readinto(self, buffer):
        if self.position >= self.size or not len(buffer):
            return 0
        index, skip = divmod(self.position, CHUNK)
        if index != self._index:
            self._chunk, self._index = self._fetch(index), index
        data = self._chunk[skip : skip + len(buffer)]
        buffer[: len(data)] = data
        self.position += len(data)
        return len(data)


@deconstructible
class DatabaseStorage(Storage):
    """Files as chunked ``bytea`` rows in PostgreSQL (see the module docstring)."""

    def _save(self, name, content):
        if hasattr(content, "seek") and getattr(content, "seekable", lambda: True)():
            content.seek(0)
        with transaction.atomic():
            stored = _stored_files().create(name=name)
            size, index = 0, 0
            with connection.cursor() as cursor:
                sql = f"COPY {CHUNK_TABLE} (file_id, index, data) FROM STDIN (FORMAT binary)"
                with cursor.cursor.copy(sql) as copy:
                    copy.set_types(["bigint", "integer", "bytea"])
                    while data := content.read(CHUNK):
                        copy.write_row((stored.pk, index, data))
                        size, index = size + len(data), index + 1
            _stored_files().filter(pk=stored.pk).update(size=size)
        return name

    def _open(self, name, mode="rb"):
        if "w" in mode or "a" in mode or "+" in mode:
            raise ValueError("stored files are written by save() only")
        stored = _stored_files().filter(name=name).only("pk", "size").first()
        if stored is None:
            raise FileNotFoundError(f"no stored file named {name}")
        raw = _ChunkReader(stored.pk, stored.size)
        stored_file = File(io.BufferedReader(raw, CHUNK), name)
        stored_file.streams_beside_transactions = raw.streams
        return stored_file

    def delete(self, name):
        # The chunks go with one DELETE ... WHERE file_id IN (...): Django's fast delete, as
        # nothing else points at them.
        _stored_files().filter(name=name).delete()

    def exists(self, name):
        return _stored_files().filter(name=name).exists()

    def size(self, name):
        stored = _stored_files().filter(name=name).only("size").first()
        if stored is None:
            raise FileNotFoundError(f"no stored file named {name}")
        return stored.size

    def listdir(self, path):
        prefix = path.rstrip("/") + "/" if path else ""
        names = _stored_files().filter(name__startswith=prefix).values_list("name", flat=True)
        rest = [name[len(prefix) :] for name in names]
        return sorted({r.split("/")[0] for r in rest if "/" in r}), sorted(
            r for r in rest if "/" not in r
        )
