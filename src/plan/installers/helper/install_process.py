"""The install step's processes: pip for the venv, the pip modes'
preparations, and the installer itself with its output masked."""

import os
import shutil
import subprocess
import sys
import tempfile

from install_modes import rejected_in, supports_python_option


def pip_in(venv):
    """The pip command that installs into `venv`.

    The venvs are made `--without-pip` (installing pip and setuptools into
    each took ~4 s and left ~20 MB in the runtime image). The builder's own
    pip installs into them with `--python` (pip >= 22.3); without it, pip is
    bootstrapped into the venv with ensurepip.
    """
    python = os.path.join(venv, "bin", "python")
    probe = subprocess.run(
        [sys.executable, "-m", "pip", "--version"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    if probe.returncode == 0 and supports_python_option(probe.stdout):
        return [sys.executable, "-m", "pip", "--python", python]
    own_pip = subprocess.run(
        [python, "-m", "pip", "--version"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    if own_pip.returncode != 0:
        subprocess.check_call([python, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
    return [python, "-m", "pip"]


def prepare_pip(config):
    """The pip modes' side effects before the install: the tools venv, the
    pip command, the project's writable copy. Returns (pip, project_copy)."""
    if config["mode"] == "pip-download":
        # No venv is needed to download: the builder's own pip, whose
        # interpreter is the venv's, so it picks the same wheels.
        return [sys.executable, "-m", "pip"], None
    venv = config["venv"]
    if config["mode"] == "tool-provision" and not os.path.exists(os.path.join(venv, "bin", "python")):
        subprocess.check_call([sys.executable, "-m", "venv", "--without-pip", venv])
    pip = pip_in(venv)
    project_copy = None
    if config["mode"] == "pip-project":
        # The context is mounted read-only and build backends write next to
        # the sources (build/, *.egg-info): build from a copy.
        project_copy = os.path.join(tempfile.mkdtemp(prefix="pyfront-project-"), "src")
        shutil.copytree(config["project"], project_copy, symlinks=True)
    return pip, project_copy


def run_installer(args, env, cwd, masker, kept=None):
    """Runs the installer with its output (stdout and stderr) masked line by
    line onto our stdout; returns its exit code and whether it reported a
    rejected credential. `kept`, a list, gets the masked lines too."""
    rejected = False
    proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    for line in proc.stdout:
        line = masker.bytes(line)
        if rejected_in(line):
            rejected = True
        if kept is not None:
            kept.append(line)
        sys.stdout.buffer.write(line)
        sys.stdout.buffer.flush()
    return proc.wait(), rejected
