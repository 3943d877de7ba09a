"""Django upload handlers that take uploads in 1 MiB pieces instead of 64 KiB: the multipart
parser is Python, and a 150 MB CSV file costs it sixteen times fewer rounds (``settings.
FILE_UPLOAD_HANDLERS``). Behaviour is Django's own otherwise: small files in memory, large ones
in a temporary file until the storage (``STORAGES["uploads"]``) keeps them."""

from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler

PIECE = 1 << 20


class MemoryHandler(MemoryFileUploadHandler):
    chunk_size = PIECE


class TemporaryFileHandler(TemporaryFileUploadHandler):
    chunk_size = PIECE
