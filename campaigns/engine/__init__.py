"""The campaign engine (design 3, 7). PostgreSQL holds the state; RQ jobs are wake-up calls.

- ``jobs``: the job of an activity run (claim, proof of life, handler, results) and its inline
  chain (the worker runs the next ready step of the same run itself), and enqueueing;
- ``claim``: claims, the proof of life (a session-level advisory lock on a connection the process
  keeps, released by PostgreSQL when the worker dies) and the heartbeat;
- ``scheduling``: which step runs next (two queues: short runs first, long runs oldest first);
- ``progress``: readiness, skip propagation, joins, run completion, stop, pause, resume;
- ``worker``: the engine worker (``manage.py campaigns_worker``), non-forking;
- ``runtime``: what that worker lends the jobs it runs (stop flag, heartbeat);
- ``reconciler``: the periodic tick (``manage.py campaigns_tick``).
"""
