"""``make run``: prepare the project, then serve it and supervise its processes.

The web server (gunicorn), one RQ worker on the general queues (with the scheduler) and every
periodic command of the project (the engine worker, ``campaigns_worker``, on the engine queues; the
tick) each run in their own process group. When one of them exits, or the launcher
gets Ctrl-C / SIGTERM / SIGHUP, every group is stopped, then the servers.
"""

import json
import signal
import socket
import sys
import time
import urllib.error
import urllib.request

from .places import LauncherError
from .procs import spawn, stop_groups, wait_until
from .stack import Stack, Stopped, say


def port_in_use(port):
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def prepare(stack):
    """Migrate, collectstatic, admin user, demo data; return the queues and periodic commands."""
    output = stack.data_dir / "runtime.json"
    proc = spawn([sys.executable, "-m", "config.devstack.prepare", output], env=stack.env)
    try:
        code = proc.wait()
    finally:
        if proc.poll() is None:
            stop_groups([proc])
    if code != 0:
        raise LauncherError(f"preparing the project failed (exit code {code}); see above")
    return json.loads(output.read_text())


def app_processes(runtime, port):
    """The commands to supervise, by name."""
    manage = [sys.executable, "manage.py"]
    gunicorn = [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}"]
    processes = {
        "web": gunicorn + ["--timeout", "120", "--graceful-timeout", "10", "--no-control-socket"],
        "worker": manage + ["rqworker", "--with-scheduler", *runtime["queues"]],
    }
    for name in runtime["periodic"]:
        processes[name] = manage + [name]
    return processes


def answering(url, proc):
    if proc.poll() is not None:
        raise LauncherError("the web server exited at start; see above")
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def supervise(children):
    """Return when a child exits (its name and code)."""
    while True:
        for name, proc in children.items():
            if proc.poll() is not None:
                return name, proc.returncode
        time.sleep(0.3)


def banner(stack, url):
    lines = [f"Admin: {url}"]
    password_file = stack.data_dir / "admin_password"
    if password_file.exists():
        lines.append(f"Login: {password_file.read_text().strip()}")
    lines.append("Ctrl-C stops everything.")
    width = max(len(line) for line in lines) + 4
    print("\n" + "=" * width + "\n" + "\n".join(f"  {line}" for line in lines))
    print("=" * width + "\n", flush=True)


def run(data_dir, port):
    def check_port():
        if port_in_use(port):
            raise LauncherError(f"port {port} on 127.0.0.1 is in use; set PORT to another port")

    children = {}
    with Stack(data_dir, precheck=check_port) as stack:
        stack.env["PORT"] = str(port)
        stack.env.setdefault("WEB_CONCURRENCY", "2")
        runtime = prepare(stack)
        stack.publish(PORT=port)
        try:
            for name, cmd in app_processes(runtime, port).items():
                children[name] = spawn(cmd, env=stack.env)
            say(f"started {', '.join(children)}")
            url = f"http://127.0.0.1:{port}/admin/"
            if not wait_until(lambda: answering(url + "login/", children["web"]), 60, step=0.2):
                raise LauncherError("the admin did not answer within 60 s")
            banner(stack, url)
            name, code = supervise(children)
            how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited ({code})"
            say(f"{name} {how}; stopping everything")
            return 1
        except Stopped as stop:
            say(f"{stop} received; stopping")
            return 0
        finally:
            stop_groups(list(children.values()))
