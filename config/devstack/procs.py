"""Child processes of the launcher: spawning, tagging, finding and stopping them.

Every process the launcher starts carries ``DEVSTACK_DATA_DIR=<data dir>`` in its environment. That
tag is how a later launcher on the same data finds what a SIGKILLed one left behind: it holds the
data folder's lock, so any live process with the tag is an orphan.

Children also get a parent-death signal (Linux ``PR_SET_PDEATHSIG``), so most of them stop on their
own when the launcher is killed; the tag sweep catches the rest.
"""

import ctypes
import os
import signal
import subprocess
import time
from pathlib import Path

MARKER = "DEVSTACK_DATA_DIR"
PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def preexec(*, user=None, death_signal=signal.SIGTERM):
    """A ``preexec_fn`` that drops to ``user`` (a pwd entry) and asks for ``death_signal``.

    The parent-death signal is cleared by credential changes, so it is set after ``setuid``.
    """

    def run():
        if user is not None:
            os.setgroups([])
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
        _libc.prctl(PR_SET_PDEATHSIG, int(death_signal), 0, 0, 0)

    return run


def spawn(cmd, *, env, new_session=True, user=None, death_signal=signal.SIGTERM, **kwargs):
    """Start ``cmd``; in its own session (so the launcher decides when it stops) unless told not."""
    return subprocess.Popen(
        [str(part) for part in cmd],
        env=env,
        start_new_session=new_session,
        preexec_fn=preexec(user=user, death_signal=death_signal),
        **kwargs,
    )


def _read(path):
    try:
        return Path(path).read_bytes()
    except OSError:
        return b""


def process_state(pid):
    """``(state, pgrp)`` from /proc, or None when the process is gone."""
    raw = _read(f"/proc/{pid}/stat").decode(errors="replace")
    if not raw:
        return None
    fields = raw[raw.rfind(")") + 2 :].split()
    return fields[0], int(fields[2])


def alive(pid):
    """True while ``pid`` runs (zombies count as gone)."""
    state = process_state(pid)
    return state is not None and state[0] not in ("Z", "X")


def tagged_with(pid, data_dir):
    """True when ``pid``'s environment carries this data folder's tag."""
    tag = f"{MARKER}={data_dir}".encode()
    return tag in _read(f"/proc/{pid}/environ").split(b"\0")


def runs_binary(pid, path):
    """True when ``pid`` executes the file at ``path`` (servers that rewrite their process title
    overwrite their environment, so the tag cannot be read back from them)."""
    try:
        return os.readlink(f"/proc/{pid}/exe") == str(Path(path).resolve())
    except OSError:
        return False


def tagged_processes(data_dir, exclude=()):
    """Live processes tagged with ``data_dir``, the caller and its ancestors excluded."""
    skip = set(exclude) | _ancestors()
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) not in skip:
            pid = int(entry)
            if tagged_with(pid, data_dir) and alive(pid):
                found.append(pid)
    return found


def _ancestors():
    pids, pid = set(), os.getpid()
    while pid > 1:
        pids.add(pid)
        raw = _read(f"/proc/{pid}/stat").decode(errors="replace")
        if not raw:
            break
        pid = int(raw[raw.rfind(")") + 2 :].split()[1])
    return pids


def signal_pid(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def signal_group(pgid, sig):
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def group_members(pgid):
    """Live (non-zombie) processes whose process group is ``pgid``."""
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            state = process_state(int(entry))
            if state and state[1] == pgid and state[0] not in ("Z", "X"):
                members.append(int(entry))
    return members


def wait_until(predicate, timeout, step=0.05):
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(step)


def stop_groups(procs, *, sig=signal.SIGTERM, timeout=20):
    """Stop children started in their own sessions, with everything in their process groups.

    ``sig`` to every group at once, SIGKILL for what is still there after ``timeout`` seconds.
    """

    def gone():
        return all(proc.poll() is not None and not group_members(proc.pid) for proc in procs)

    for proc in procs:
        signal_group(proc.pid, sig)
    if not wait_until(gone, timeout):
        for proc in procs:
            signal_group(proc.pid, signal.SIGKILL)
        wait_until(gone, 5)


def stop_pids(pids, *, sig=signal.SIGTERM, timeout=10):
    """Signal ``pids``, wait for them, SIGKILL the ones that remain."""
    for pid in pids:
        signal_pid(pid, sig)
    if not wait_until(lambda: not any(alive(pid) for pid in pids), timeout):
        for pid in pids:
            signal_pid(pid, signal.SIGKILL)
        wait_until(lambda: not any(alive(pid) for pid in pids), 5)
