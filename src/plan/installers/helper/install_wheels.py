"""pyfront's own wheel installer, for the pinned wheels of the offline install.

The wheelhouse-install mode with pip installs a pinned, hashed set of files
(`name==version --hash=sha256:...`, one file per package). For the wheels of
that set pip's own work is mostly overhead: on the 37-package bench set,
`pip install --no-deps` took 3.4 s where unpacking the same wheels and
compiling their bytecode on every core took 1.8 s. So this module installs
the wheels itself, as PEP 427 describes, the way pip lays them out:

- files under the `.dist-info`'s scheme root (purelib or platlib, the same
  directory in a venv), `<name>-<version>.data/<key>/` under the scheme's
  `key` path, nothing outside those directories (a path that leaves them
  is a Failure, as in pip);
- modes: 0o755 where the archive marks a file executable, else 0o644
  (under the build's umask 022, what pip's open() and chmod give);
- scripts of `.data/scripts` whose first line is `#!python` get the venv's
  interpreter, and `console_scripts`/`gui_scripts` entry points get pip's
  launcher script;
- `INSTALLER` (`pyfront`), `REQUESTED`, and a `RECORD` that lists every
  installed file, the bytecode among them.

Anything this module does not handle exactly as pip does goes to pip
instead, file by file (`split`): sdists (they build offline with pip), a
line that is not `name==version --hash=sha256:<hex>`, a hash that matches
no wheel of the manifest, a wheel of another name, pip and setuptools
themselves (pip treats their scripts specially), a package already in the
venv, and a wheel whose metadata is not plain (`inspect`).

No network and no secret reach this step, like any other of the offline
install: the wheels' contents are data here, and no package code runs.
"""

import base64
import configparser
import csv
import hashlib
import io
import os
import re
import stat
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor

import install_compile
from install_failure import Failure
from install_wheelhouse import WHEEL_FILENAME
from pyfront_names import normalize

# One pinned line as the fetch and select steps write it.
_PINNED_LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+) --hash=sha256:([0-9a-f]{64})$")
# An entry point's object reference: `module` or `module:attr.attr`, extras
# after it ignored (pip ignores them too).
_ENTRY = re.compile(r"^(?P<module>[\w.]+)\s*(?::\s*(?P<attr>[\w.]+))?\s*(?:\[[^\]]*\])?$")
# pip's launcher for an entry point (pip's PipScriptMaker template).
_LAUNCHER = """#!{python}
# -*- coding: utf-8 -*-
import re
import sys
from {module} import {import_name}
if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])
    sys.exit({func}())
"""
# Packages pip installs with scripts of its own (pip3, pip3.X, ...).
_PIP_SPECIAL = {"pip", "setuptools"}
_DATA_KEYS = ("purelib", "platlib", "scripts", "headers", "data")
INSTALLER_NAME = b"pyfront\n"
# The bytecode compiler, a program the venv's interpreter runs.
_COMPILE = os.path.realpath(install_compile.__file__)


def split(requirements_text, manifest_files, wheelhouse):
    """The pinned set, split: ([(wheel path, its line)] this module
    installs, the lines left to pip). `manifest_files`: file name -> sha256 (the checked
    manifest). A set with any line this module does not understand goes to
    pip whole."""
    by_hash = {}
    for filename, sha256 in manifest_files.items():
        by_hash.setdefault(sha256, []).append(filename)
    ours, rest = [], []
    for line in requirements_text.splitlines():
        if not line.strip():
            continue
        match = _PINNED_LINE.match(line.strip())
        if not match:
            return [], [l for l in requirements_text.splitlines() if l.strip()]
        name, _, sha256 = match.groups()
        files = by_hash.get(sha256, [])
        wheel = WHEEL_FILENAME.match(files[0]) if len(files) == 1 else None
        if (
            wheel
            and normalize(wheel.group(1)) == normalize(name)
            and normalize(name) not in _PIP_SPECIAL
        ):
            ours.append((os.path.join(wheelhouse, files[0]), line.strip()))
        else:
            rest.append(line.strip())
    return ours, rest


class Wheel:
    """What installing one wheel takes, read from the archive before
    anything is written: `None` from `inspect` when pip must do it."""

    def __init__(self, path, distinfo, purelib, scripts):
        self.path = path
        self.distinfo = distinfo  # "<name>-<version>.dist-info"
        self.purelib = purelib  # Root-Is-Purelib
        self.scripts = scripts  # [(name, module, attr)]


def inspect(path):
    """A Wheel for the archive at `path`, or None when its layout or
    metadata is one this module leaves to pip."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        tops = {n.split("/", 1)[0] for n in names}
        infos = [t for t in tops if t.endswith(".dist-info")]
        if len(infos) != 1:
            return None
        distinfo = infos[0]
        prefix = distinfo[: -len(".dist-info")]
        if not all(t == distinfo or t == prefix + ".data" or not t.endswith((".dist-info", ".data")) for t in tops):
            return None
        for name in names:
            if name.startswith(prefix + ".data/"):
                parts = name.split("/")
                if len(parts) > 2 and parts[1] not in _DATA_KEYS:
                    return None
        try:
            wheel = _headers(archive.read(distinfo + "/WHEEL").decode("utf-8"))
        except (KeyError, UnicodeDecodeError):
            return None
        version = wheel.get("wheel-version", "")
        if not version.startswith("1."):
            return None
        purelib = wheel.get("root-is-purelib", "").strip().lower() == "true"
        scripts = []
        if distinfo + "/entry_points.txt" in names:
            scripts = _entry_scripts(archive.read(distinfo + "/entry_points.txt"))
            if scripts is None:
                return None
        return Wheel(path, distinfo, purelib, scripts)


def _headers(text):
    """The `Key: value` lines of a WHEEL file, keys lowercased."""
    headers = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            headers[key.strip().lower()] = value.strip()
    return headers


def _entry_scripts(data):
    """[(script name, module, attr)] of console_scripts and gui_scripts,
    or None for an entry_points.txt this module leaves to pip."""
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    parser.optionxform = str
    try:
        parser.read_string(data.decode("utf-8"))
    except (configparser.Error, UnicodeDecodeError):
        return None
    scripts = []
    for section in ("console_scripts", "gui_scripts"):
        if not parser.has_section(section):
            continue
        for name, value in parser.items(section):
            match = _ENTRY.match(value.strip())
            if not match or not match.group("attr") or "/" in name or name.startswith("."):
                return None
            scripts.append((name, match.group("module"), match.group("attr")))
    return scripts


class Scheme:
    """Where a venv's files go: the scheme of pip's venv installs, for the
    venv's one `lib/pythonX.Y/site-packages`."""

    def __init__(self, venv, lib):
        version = os.path.basename(os.path.dirname(lib))[len("python"):]
        self.venv = venv
        self.python = os.path.join(venv, "bin", "python")
        self.paths = {
            "purelib": lib,
            "platlib": lib,
            "scripts": os.path.join(venv, "bin"),
            "data": venv,
            "headers": os.path.join(venv, "include", "site", "python%s" % version),
        }


def venv_scheme(venv):
    """The Scheme of `venv`, or None when it has not exactly one
    site-packages (this module then leaves the install to pip)."""
    try:
        libs = [
            os.path.join(venv, "lib", entry, "site-packages")
            for entry in sorted(os.listdir(os.path.join(venv, "lib")))
            if re.match(r"^python\d+\.\d+t?$", entry)
        ]
    except OSError:
        return None
    libs = [lib for lib in libs if os.path.isdir(lib)]
    return Scheme(venv, libs[0]) if len(libs) == 1 else None


def _record_hash(data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode("ascii")


def _inside(root, relative):
    """`root`/`relative` when it stays inside `root`, else None."""
    if relative.startswith("/") or "\\" in relative or "\0" in relative:
        return None
    parts = relative.split("/")
    if any(p in ("..",) for p in parts):
        return None
    return os.path.join(root, *[p for p in parts if p not in ("", ".")])


def install(wheel, scheme):
    """Unpacks `wheel` (a Wheel) into `scheme`; returns the installed
    files as {absolute path: (hash, size)} (hash "" for none). Raises
    Failure for a path that leaves the venv's directories."""
    root = scheme.paths["purelib" if wheel.purelib else "platlib"]
    prefix = wheel.distinfo[: -len(".dist-info")]
    installed = {}
    package = os.path.basename(wheel.path)
    with zipfile.ZipFile(wheel.path) as archive:
        for info in archive.infolist():
            name = info.filename
            if name.endswith("/"):
                continue
            if name.startswith(prefix + ".data/"):
                _, key, rest = name.split("/", 2)
                base, relative = scheme.paths[key], rest
            else:
                key, base, relative = None, root, name
            if name == wheel.distinfo + "/RECORD":
                continue
            target = _inside(base, relative)
            if target is None or not relative:
                raise Failure(
                    "the wheel `%s` has a file `%s` that would be installed outside the venv's directories"
                    % (package, name),
                    ["a wheel's paths stay under its scheme's directories (PEP 427); this file is not a valid wheel"],
                )
            data = archive.read(info)
            executable = bool((info.external_attr >> 16) & 0o111)
            if key == "scripts" and data.startswith(b"#!python"):
                newline = data.find(b"\n")
                rest_of = data[newline + 1:] if newline >= 0 else b""
                data = b"#!" + scheme.python.encode() + b"\n" + rest_of
            _write(target, data, executable)
            installed[target] = (_record_hash(data), len(data))
    distinfo = os.path.join(root, wheel.distinfo)
    for name, module, attr in wheel.scripts:
        data = _LAUNCHER.format(
            python=scheme.python, module=module, import_name=attr.split(".")[0], func=attr
        ).encode("utf-8")
        target = os.path.join(scheme.paths["scripts"], name)
        _write(target, data, True)
        installed[target] = (_record_hash(data), len(data))
    for name, data in (("INSTALLER", INSTALLER_NAME), ("REQUESTED", b"")):
        target = os.path.join(distinfo, name)
        _write(target, data, False)
        installed[target] = (_record_hash(data), len(data))
    return installed


def _write(target, data, executable):
    os.makedirs(os.path.dirname(target), exist_ok=True)
    try:
        # A file of an earlier wheel (pip overwrites too; two wheels of a
        # namespace package may ship the same file): unlinked first, so
        # that nothing is written through a link.
        os.unlink(target)
    except FileNotFoundError:
        pass
    with open(target, "wb") as f:
        f.write(data)
    if executable:
        mode = stat.S_IMODE(os.stat(target).st_mode)
        os.chmod(target, mode | ((mode & 0o444) >> 2))


def write_record(wheel, scheme, installed, compiled):
    """RECORD, as pip writes it: paths relative to the scheme root, sorted,
    the bytecode and RECORD itself without hash."""
    root = scheme.paths["purelib" if wheel.purelib else "platlib"]
    rows = []
    for path, (digest, size) in installed.items():
        rows.append((os.path.relpath(path, root), digest, str(size)))
    for path in compiled:
        rows.append((os.path.relpath(path, root), "", ""))
    record = os.path.join(root, wheel.distinfo, "RECORD")
    rows.append((os.path.relpath(record, root), "", ""))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in sorted(set(rows)):
        writer.writerow(row)
    with open(record, "w", encoding="utf-8") as f:
        f.write(out.getvalue())


def already_installed(scheme):
    """Normalized names of the distributions already in the venv."""
    names = set()
    for key in ("purelib", "platlib"):
        try:
            entries = os.listdir(scheme.paths[key])
        except FileNotFoundError:
            continue
        for entry in entries:
            if entry.endswith(".dist-info"):
                names.add(normalize(entry[: -len(".dist-info")].split("-")[0]))
    return names


def install_all(paths, scheme, jobs=4):
    """Installs the wheels at `paths` that `inspect` finds plain (all are
    inspected before any is written); returns the others, left to pip.
    Prints one line saying how many it installed."""
    present = already_installed(scheme)
    wheels, left = [], []
    for path in paths:
        wheel = inspect(path)
        name = WHEEL_FILENAME.match(os.path.basename(path)).group(1)
        if wheel is None or normalize(name) in present:
            left.append(path)
        else:
            wheels.append(wheel)
    if not wheels:
        return left
    with ThreadPoolExecutor(jobs) as pool:
        results = list(pool.map(lambda w: install(w, scheme), wheels))
    compiled = compile_bytecode(scheme, [p for r in results for p in r if p.endswith(".py")])
    for wheel, installed in zip(wheels, results):
        write_record(wheel, scheme, installed, [compiled[p] for p in installed if p in compiled])
    sys.stdout.write(
        "pyfront: installed %d wheel%s from the wheelhouse (hash-checked, no package code runs)\n"
        % (len(wheels), "" if len(wheels) == 1 else "s")
    )
    sys.stdout.flush()
    return left


def compile_bytecode(scheme, sources):
    """Compiles `sources` with the venv's interpreter on every core
    (install_compile.py), as pip compiles what it installs; returns
    {source: its .pyc} for those that compiled (a file that does not, pip
    leaves without bytecode too)."""
    if not sources:
        return {}
    lib = scheme.paths["purelib"]
    sources = [s for s in sources if s.startswith(lib + os.sep)]
    proc = subprocess.run(
        [scheme.python, "-I", _COMPILE],
        input="\0".join(sources).encode("utf-8"),
        stdout=subprocess.PIPE,
    )
    if proc.returncode != 0:
        raise Failure("compiling the installed wheels' bytecode failed (exit code %d)" % proc.returncode)
    compiled = {}
    for line in proc.stdout.decode("utf-8").split("\0"):
        source, sep, pyc = line.partition("\t")
        if sep:
            compiled[source] = pyc
    return compiled
