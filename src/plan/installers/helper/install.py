"""pyfront's install step, run inside the builder stage (pip or uv).

    python3 install.py CONFIG

CONFIG is the step's `install.json` (install_config.py); `redact_rules.json`
and this program's modules are read from next to this file, where pyfront
mounts them (src/plan/installers/mod.rs). Index credentials arrive only as
BuildKit secret files under /run/secrets. This program reads them at run
time and hands them to the installer through its environment
(install_modes.py), never through an argv or a file, and masks them in
everything the installer and this program print (pyfront_redact.py). Spec
values come from the config as JSON data; none is ever pasted into a shell
command.

The modules' functions are pure but for the few that touch the outside
(install_credentials.py: secret files and the network; install_process.py:
subprocesses); the test_*.py next to them test the rest without running an
installer. Runs on the builder image's python3: stdlib only, Python 3.9 or
later.
"""

import os
import shutil
import sys
import tempfile

# A script's own directory is sys.path[0], except under `python3 -I`
# (Python 3.11+): put it there then too, and nothing else.
HERE = os.path.dirname(os.path.realpath(__file__))
if sys.path[:1] != [HERE]:
    sys.path.insert(0, HERE)

from install_config import parse_config  # noqa: E402
from install_credentials import gather_credentials  # noqa: E402
from install_failure import Failure, run_step  # noqa: E402
from install_local import (  # noqa: E402
    build_requirements_argv,
    copy_packages,
    copy_requirements,
    packages_argv,
)
from install_modes import command, installer_failed, tool_of  # noqa: E402
from install_process import prepare_pip, run_installer  # noqa: E402
from install_wheels import install_all, split, venv_scheme  # noqa: E402
from install_wheelhouse import (  # noqa: E402
    check_wheelhouse,
    copy_members,
    pip_members_command,
    read_members,
    uv_members_command,
    write_manifest,
)


def read_config(path):
    """The step's config (install_config.py), checked."""
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise Failure("cannot read the config %s: %s" % (path, e))
    return parse_config(text, os.path.basename(path))


def run(argv, masker):
    if len(argv) != 1:
        raise Failure("usage: install.py CONFIG")
    config = read_config(argv[0])
    creds = gather_credentials(config["indexes"], masker)
    manifest = None
    if config["mode"] in ("wheelhouse-install", "wheelhouse-requirements"):
        manifest = check_wheelhouse(config["wheelhouse"])
    scratch = tempfile.mkdtemp(prefix="pyfront-install-")
    try:
        if config["mode"] == "wheelhouse-install" and config["installer"] == "pip":
            config = install_wheels_first(config, manifest, scratch)
            if config is None:
                return
        run_tool(config, creds, masker)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def install_wheels_first(config, manifest, scratch):
    """The pinned set's wheels, installed by pyfront itself
    (install_wheels.py); returns the config for what is left to pip (its
    requirements a file in `scratch`), or None when nothing is."""
    with open(config["requirements"], encoding="utf-8") as f:
        text = f.read()
    scheme = venv_scheme(config["venv"])
    if scheme is None:
        return config
    ours, rest = split(text, manifest, config["wheelhouse"])
    left = set(install_all([path for path, _ in ours], scheme))
    rest += [line for path, line in ours if path in left]
    if not rest and not config["members"]:
        return None
    requirements = os.path.join(scratch, "requirements.txt")
    with open(requirements, "w", encoding="utf-8") as f:
        f.write("".join(line.strip() + "\n" for line in rest))
    return dict(config, requirements=requirements, pinned_left=bool(rest))


def run_tool(config, creds, masker):
    pip, project_copy = None, None
    if tool_of(config) == "pip":
        pip, project_copy = prepare_pip(config)
    local_scratch = None
    if config.get("local"):
        local_scratch = tempfile.mkdtemp(prefix="pyfront-local-")
        config = dict(config, requirements=copy_requirements(config, os.path.join(local_scratch, "requirements")))
    try:
        run_installers(config, creds, pip, project_copy, masker)
    finally:
        if local_scratch:
            shutil.rmtree(local_scratch, ignore_errors=True)
    if config["mode"] == "pip-download":
        write_manifest(config["wheelhouse"], pin=not config.get("local"))


def run_installers(config, creds, pip, project_copy, masker):
    args, env_additions = command(config, creds, pip, project_copy)
    env = dict(os.environ)
    env.update(env_additions)
    scratch = None
    if config["mode"] == "wheelhouse-install" and config["installer"] == "uv":
        # No cache mount in this step: a cache of its own, gone afterwards.
        scratch = env["UV_CACHE_DIR"] = tempfile.mkdtemp(prefix="pyfront-uv-cache-")
    output = []
    try:
        if config.get("pinned_left", True):
            code, rejected = run_installer(args, env, config.get("cwd"), masker, output)
            if code != 0:
                raise installer_failed(config, code, rejected, b"".join(output))
        if config["mode"] == "wheelhouse-install" and config["members"]:
            install_members(config, pip, env, masker)
        if config.get("local"):
            install_local(config, pip, env, masker)
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


def install_local(config, pip, env, masker):
    """pip-download: the local packages' build backends, resolved apart;
    wheelhouse-requirements: the local packages themselves, offline."""
    local = config["local"]
    if config["mode"] == "pip-download":
        if local["build_requirements"]:
            run_checked(config, build_requirements_argv(pip, config), env, masker)
        return
    if not local["packages"]:
        return
    scratch = tempfile.mkdtemp(prefix="pyfront-local-packages-")
    try:
        copies = copy_packages(local["packages"], scratch)
        sys.stdout.write("pyfront: building and installing local package%s %s (non-editable, no deps)\n" % (
            "" if len(copies) == 1 else "s", ", ".join(local["packages"])))
        sys.stdout.flush()
        run_checked(config, packages_argv(pip, config, copies), env, masker)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def run_checked(config, args, env, masker):
    output = []
    code, rejected = run_installer(args, env, None, masker, output)
    if code != 0:
        raise installer_failed(config, code, rejected, b"".join(output))


def install_members(config, pip, env, masker):
    """Local packages (uv workspace members and path sources, Poetry path
    dependencies): the ones the select step copied, after the locked
    packages, from writable copies (the mount is read-only)."""
    names = read_members(config["members"])
    if not names:
        return
    # One path for every build: a build backend may write it into the
    # metadata (poetry-core turns a path dependency into `name @ file://`).
    scratch = os.path.join(tempfile.gettempdir(), "pyfront-members")
    try:
        os.mkdir(scratch)
    except FileExistsError:
        scratch = tempfile.mkdtemp(prefix="pyfront-members-")
    try:
        copies = copy_members(config["members"], names, scratch)
        if config["installer"] == "uv":
            args, additions = uv_members_command(config, copies)
        else:
            args, additions = pip_members_command(pip, config, copies)
        env = dict(env)
        env.update(additions)
        sys.stdout.write("pyfront: installing local package%s %s (non-editable)\n" % (
            "" if len(names) == 1 else "s", ", ".join(names)))
        sys.stdout.flush()
        output = []
        code, rejected = run_installer(args, env, None, masker, output)
        if code != 0:
            raise installer_failed(config, code, rejected, b"".join(output))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main(argv=None, rules_dir=HERE):
    """Runs the step for `argv` (default: this process's arguments) and
    returns the exit status; `rules_dir` holds redact_rules.json."""
    return run_step(run, sys.argv[1:] if argv is None else argv, rules_dir)


if __name__ == "__main__":
    sys.exit(main())
