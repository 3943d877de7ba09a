"""Campaign operations (design 9): keyword-only functions, each in a transaction, taking the
acting ``user`` (a user, or ``config.access.SYSTEM`` for the product itself), enforcing the
lifecycle table (``campaigns.lifecycle``: permission, then state) and auditing through
``config.audit.log_change``. They raise the domain errors of ``config.errors`` only.

- ``editing``: create, replace, revise, discard a revision, duplicate, validation errors;
- ``running``: test runs, publish, pause, resume, stop, close, archive, trigger;
- ``launching``: scheduled launches (the tick), the next launch times;
- ``tasks``: the queue of human tasks: create, assign, decide, cancel, expire (the tick);
- ``approvals``: publication under approval policies, four eyes bound to the definition hash;
- ``policies``: managing approval policies (``campaigns.manage_policies``);
- ``notifications``: where email to approvers and requesters plugs in (not built yet).
- ``running``: test runs, publish, launches, pause, resume, stop, close, archive, trigger;
- ``tasks``: deciding human tasks (send confirmations included);
- ``proofs``: proofs and previews of channel activities.
"""

from campaigns.services.editing import (  # noqa: F401
    create_from_definition,
    discard_revision,
    duplicate,
    remove_activity,
    replace_definition,
    revise,
    save_activity,
    unique_name,
    validation_errors,
)
from campaigns.services.launching import launch_due, upcoming  # noqa: F401
from campaigns.services.proofs import preview, send_proof  # noqa: F401
from campaigns.services.running import (  # noqa: F401
    ACTIVE_RUNS,
    archive,
    close,
    pause,
    publish,
    publish_definition,
    resume,
    start_run,
    stop,
    stop_run,
    test_run,
    trigger,
)
from campaigns.services.tasks import (  # noqa: F401
    assign_task,
    decide_task,
    expire_due,
    open_tasks,
)
