"""The dev stack launcher (see config/devstack/__init__.py).

python -m config.devstack run                 # make run
python -m config.devstack test [PYTEST ARGS]  # make test
python -m config.devstack exec -- CMD ARGS    # any command with the stack up
python -m config.devstack manage -- ARGS      # manage.py ARGS with the stack up (make manage)
python -m config.devstack shell               # manage.py shell with the stack up
python -m config.devstack clean               # remove a data folder (and its /var/tmp part)

exec, manage and shell use the servers of a running ``make run`` on the same data folder when
there is one (``Stack(attach=True)``), and start their own otherwise.
"""

import argparse
import os
import shutil
import signal
import sys
from pathlib import Path

from .places import DataLock, LauncherError, spill_dir
from .procs import signal_pid, spawn
from .stack import Stack, Stopped, install_signal_handlers, say

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DEFAULT_DATA = {"test": BASE_DIR / ".devdata" / "test"}


def run_in_foreground(stack, cmd):
    """Run ``cmd`` in the launcher's process group (the terminal's Ctrl-C reaches it directly);
    forward SIGTERM / SIGHUP to it; return its exit code."""
    child = spawn(cmd, env=stack.env, new_session=False)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, frame: signal_pid(child.pid, signum))
    code = child.wait()
    return 128 - code if code < 0 else code  # killed by a signal: the shell's convention


def command_test(args):
    with Stack(args.data_dir, fast=True) as stack:
        return run_in_foreground(stack, [sys.executable, "-m", "pytest", *args.rest])


def command_exec(args):
    cmd = args.rest
    if not cmd:
        raise LauncherError("exec needs a command: python -m config.devstack exec -- CMD ARGS")
    with Stack(args.data_dir, fast=args.fast, attach=True) as stack:
        if args.migrate:
            migrate = [sys.executable, "manage.py", "migrate", "--noinput", "--verbosity", "0"]
            code = run_in_foreground(stack, migrate)
            if code:
                return code
        return run_in_foreground(stack, cmd)


def command_shell(args):
    with Stack(args.data_dir, attach=True) as stack:
        return run_in_foreground(stack, [sys.executable, "manage.py", "shell", *args.rest])


def command_manage(args):
    if not args.rest:
        raise LauncherError("manage needs a command: python -m config.devstack manage -- ARGS")
    with Stack(args.data_dir, attach=True) as stack:
        return run_in_foreground(stack, [sys.executable, "manage.py", *args.rest])


def command_run(args):
    from .run import run

    return run(args.data_dir, int(os.environ.get("PORT") or 8000))


def command_clean(args):
    data_dir = args.data_dir.resolve()
    if data_dir.exists():
        lock = DataLock(data_dir)
        lock.acquire()
        shutil.rmtree(data_dir)
        lock.release()
    shutil.rmtree(spill_dir(data_dir), ignore_errors=True)
    say(f"removed {data_dir} and {spill_dir(data_dir)}")
    return 0


COMMANDS = {
    "run": command_run,
    "test": command_test,
    "exec": command_exec,
    "shell": command_shell,
    "manage": command_manage,
    "clean": command_clean,
}


def parse(argv):
    """``COMMAND [--data-dir DIR] [ARGS...] [-- ARGS...]``: unknown options go to the command."""
    parser = argparse.ArgumentParser(
        prog="python -m config.devstack", description=__doc__, allow_abbrev=False
    )
    parser.add_argument("command", choices=COMMANDS)
    parser.add_argument("--data-dir", type=Path, help="default .devdata (.devdata/test for test)")
    parser.add_argument("--migrate", action="store_true", help="exec: migrate before the command")
    parser.add_argument(
        "--fast", action="store_true", help="exec: PostgreSQL without fsync, for throwaway data"
    )
    head, tail = (
        (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    )
    args, extra = parser.parse_known_args(head)
    args.rest = extra + tail
    if args.data_dir is None:
        args.data_dir = DEFAULT_DATA.get(args.command, BASE_DIR / ".devdata")
    return args


def main(argv=None):
    args = parse(sys.argv[1:] if argv is None else argv)
    os.chdir(BASE_DIR)
    install_signal_handlers()
    try:
        return COMMANDS[args.command](args)
    except LauncherError as error:
        print(f"devstack: {error}", file=sys.stderr, flush=True)
        return 3
    except Stopped as stop:
        say(f"{stop} received; stopped")
        return 0


if __name__ == "__main__":
    sys.exit(main())
