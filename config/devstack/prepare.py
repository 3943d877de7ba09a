"""The Django side of ``make run``, in one process: migrate, collect static files, make the admin
user, seed the demo data, and tell the launcher which queues and periodic commands to run.

Run by the launcher as ``python -m config.devstack.prepare OUTPUT_JSON`` with the stack's
environment; it writes ``{"queues": [...], "periodic": [...]}`` to OUTPUT_JSON: the queues of the
rq worker (all but those a periodic command serves) and the periodic commands.
"""

import json
import os
import secrets
import sys
from pathlib import Path

# Long-running commands the launcher runs beside the web server and the rq worker, when the
# project has them: the engine worker (its own queues, settings.ENGINE_QUEUES) and the tick.
PERIODIC_COMMANDS = ["campaigns_worker", "campaigns_tick"]


def ensure_superuser(data_dir):
    """Create the admin user unless a superuser exists; a generated password is kept in the data."""
    from django.contrib.auth import get_user_model

    users = get_user_model()
    password_file = data_dir / "admin_password"
    if users.objects.filter(is_superuser=True).exists():
        if password_file.exists():
            print(f"Admin user: {password_file.read_text().strip()}  (from {password_file})")
        return
    username = os.environ.get("DJANGO_SUPERUSER_USERNAME") or "admin"
    email = os.environ.get("DJANGO_SUPERUSER_EMAIL") or f"{username}@localhost"
    password = os.environ.get("DJANGO_SUPERUSER_PASSWORD")
    if users.objects.filter(**{users.USERNAME_FIELD: username}).exists():
        print(f"User {username!r} exists but is no superuser; no admin user was created.")
        return
    generated = not password
    password = password or secrets.token_urlsafe(12)
    users.objects.create_superuser(username=username, email=email, password=password)
    if not generated:
        print(f"Admin user {username!r} created with the password from DJANGO_SUPERUSER_PASSWORD.")
        return
    password_file.write_text(f"{username} / {password}\n")
    password_file.chmod(0o600)
    print(f"Admin user created: {username} / {password}  (kept in {password_file})")


def main(output):
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command, get_commands

    call_command("migrate", interactive=False, verbosity=1)
    call_command("collectstatic", interactive=False, verbosity=0)
    ensure_superuser(Path(os.environ["DEV_DATA_DIR"]))
    commands = get_commands()
    if "seed_demo" in commands:
        call_command("seed_demo")
    dedicated = set(getattr(settings, "ENGINE_QUEUES", ()))
    runtime = {
        "queues": [name for name in settings.RQ_QUEUES if name not in dedicated],
        "periodic": [name for name in PERIODIC_COMMANDS if name in commands],
    }
    Path(output).write_text(json.dumps(runtime))


if __name__ == "__main__":
    main(sys.argv[1])
