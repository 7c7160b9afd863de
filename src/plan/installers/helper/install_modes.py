"""What each install mode runs: the installer's argv and the environment it
adds, credentials included, and how a failed installer is reported.

Pure functions of the config and the credentials (`Credential`): secrets
reach an installer (pip) only through its environment, in the index URLs,
never through an argv. wheelhouse-install runs offline and gets none.
"""

import re

from install_failure import Failure
from install_wheelhouse import output_hints, pip_command, uv_command
from pyfront_hints import UNREACHABLE
from pyfront_pipenv import pip_env

# The program each mode runs, as messages name it.
TOOLS = {
    "pip-requirements": "pip",
    "pip-project": "pip",
    "tool-provision": "pip",
    "pip-download": "pip",
    "wheelhouse-requirements": "pip",
}

# pip's words for a requirement it found no file for (with
# `--only-binary=:all:`, one that has only an sdist).
NO_WHEEL = re.compile(rb"No matching distribution found for|Could not find a version that satisfies")
# pip's words for an index it never got an HTTP answer from (it then says
# NO_WHEEL's words too, having found no versions).
NO_CONNECTION = re.compile(
    rb"Failed to establish a new connection|Connection refused|Name or service not known"
    rb"|Temporary failure in name resolution|No route to host|Network is unreachable"
)


def tool_of(config):
    """The program the config's mode runs (wheelhouse-install: uv or pip,
    as the config says)."""
    if config["mode"] == "wheelhouse-install":
        return config["installer"]
    return TOOLS[config["mode"]]


# Commands -------------------------------------------------------------------


def pip_argv(pip, config, project_copy=None):
    """`pip` is the command that runs pip for the venv (see
    `install_process.pip_in`); `project_copy` the writable copy of the
    project (pip-project)."""
    args = list(pip) + ["install"]
    if config["mode"] == "tool-provision":
        # Wheels only: provisioning uv (or Poetry) runs no package code.
        args.append("--only-binary=:all:")
    for requirement in config.get("requirements", []):
        args += ["-r", requirement]
    if config.get("find_links"):
        # The hermetic install's wheelhouse: the project's build
        # dependencies come from there, offline.
        args += ["--no-index", "--find-links", config["find_links"]]
    if project_copy:
        args += ["--no-deps", "--no-cache-dir", project_copy]
    return args


def supports_python_option(pip_version_output):
    """Whether `pip --version` printed a pip that has `--python` (22.3+)."""
    match = re.match(rb"pip (\d+)\.(\d+)", pip_version_output)
    return bool(match) and (int(match.group(1)), int(match.group(2))) >= (22, 3)


def pip_download_argv(pip, config):
    """pip as a wheels-only resolver: `--only-binary=:all:` keeps it from
    building any sdist, so no package's code runs next to the credentials.
    (pyfront refuses path and URL requirements before this step: pip would
    build those whatever `--only-binary` says.)"""
    args = list(pip) + ["download", "--only-binary=:all:", "--dest", config["wheelhouse"]]
    for requirement in config["requirements"]:
        args += ["-r", requirement]
    return args


def wheelhouse_requirements_argv(pip, config):
    """pip resolves the same files again, from the wheelhouse alone."""
    args = list(pip) + ["install", "--no-index", "--find-links", config["wheelhouse"], "--no-cache-dir"]
    for requirement in config["requirements"]:
        args += ["-r", requirement]
    return args


QUIET_PIP = {"PIP_NO_INPUT": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_PROGRESS_BAR": "off"}


def command(config, creds, pip=None, project_copy=None):
    """The installer's argv and what it adds to the environment. `pip` and
    `project_copy` are for the pip modes (see `pip_argv`)."""
    mode = config["mode"]
    if mode == "pip-download":
        return pip_download_argv(pip, config), pip_env(config["indexes"], creds)
    if mode == "wheelhouse-requirements":
        return wheelhouse_requirements_argv(pip, config), dict(QUIET_PIP)
    if mode == "wheelhouse-install":
        if config["installer"] == "uv":
            return uv_command(config)
        return pip_command(pip, config)
    return pip_argv(pip, config, project_copy), pip_env(config["indexes"], creds)


# A failed installer -----------------------------------------------------------


def rejected_in(line):
    """Whether an installer's output line reports an HTTP 401 or 403."""
    return b" 401" in line or b" 403" in line


def installer_failed(config, code, rejected, output=b""):
    """The Failure for an installer that exited with `code`; `rejected`:
    its output reported a 401 or 403; `output`: its masked output, for
    hints that fit what went wrong (wheelhouse-install)."""
    hints = list(config.get("hints", []))
    if config["mode"] == "pip-download":
        # The config's hint explains the wheels-only rule: only when that
        # is what failed, not when the index was never reached.
        if NO_CONNECTION.search(output):
            hints = [UNREACHABLE]
        else:
            hints = hints if NO_WHEEL.search(output) else []
    if config["mode"] in ("wheelhouse-install", "wheelhouse-requirements"):
        hints += output_hints(output)
    if rejected:
        ids = sorted({i["password_secret"] for i in config["indexes"] if i["password_secret"]})
        hints.append(
            "an index rejected the credentials (HTTP 401/403): check the token in secret %s"
            % ", ".join("`%s`" % i for i in ids)
        )
    return Failure("%s failed with exit code %d" % (tool_of(config), code), hints)
