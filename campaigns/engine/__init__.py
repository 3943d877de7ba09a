"""The campaign engine (design 3, 7). PostgreSQL holds the state; RQ jobs are wake-up calls.

- ``jobs``: the job of one activity run (claim, proof of life, handler, results, successors) and
  ``enqueue``;
- ``claim``: the claim transaction and the proof of life (a session-level advisory lock on a
  connection of its own, released by PostgreSQL when the worker dies);
- ``progress``: readiness, skip propagation, joins, run completion, stop, pause, resume;
- ``reconciler``: the periodic tick (``manage.py campaigns_tick``).
"""
