"""What the engine worker process (``campaigns.engine.worker``) lends the jobs it runs.

``install(stopping=..., heartbeat=...)`` is called once by that worker: ``stopping() -> bool`` is
True once the worker was asked to stop (a chain then yields at its next step), and ``heartbeat``
(``claims.Heartbeat``) beats for the step being worked on. In any other process (a forking rq
worker, a test calling a job directly) nothing is installed: jobs close their connections after
themselves and nothing beats (a step then relies on its proof of life alone).
"""

_installed = {"stopping": None, "heartbeat": None}


def install(*, stopping, heartbeat) -> None:
    _installed.update(stopping=stopping, heartbeat=heartbeat)


def resident() -> bool:
    """True inside the engine worker: connections are kept between jobs."""
    return _installed["heartbeat"] is not None


def stopping() -> bool:
    flag = _installed["stopping"]
    return bool(flag and flag())


def watch(activity_run_id, token) -> None:
    """The step the heartbeat now beats for (None: none)."""
    heartbeat = _installed["heartbeat"]
    if heartbeat is not None:
        heartbeat.watch(activity_run_id, token)
