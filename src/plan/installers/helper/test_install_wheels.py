"""Tests of install_wheels.py: pyfront's own installer of the pinned wheels,
laid out as pip lays them out (the e2e tests run it in real builds)."""

import base64
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest
import zipfile

import install_wheels
from helper_test_support import install_modules, mount_helper, testdata
from install_failure import Failure

VERSION = "%d.%d" % sys.version_info[:2]


def record_hash(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def make_wheel(directory, name="demo_pkg", version="1.0", files=None, wheel_meta=None, purelib=True,
               entry_points=None, executable=()):
    """A wheel file in `directory`; `files`: archive path -> bytes."""
    files = dict(files if files is not None else {"demo_pkg/__init__.py": b"VALUE = 1\n"})
    distinfo = "%s-%s.dist-info" % (name, version)
    files.setdefault(distinfo + "/METADATA", b"Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (
        name.encode(), version.encode()))
    files[distinfo + "/WHEEL"] = wheel_meta if wheel_meta is not None else (
        b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: %s\nTag: py3-none-any\n"
        % (b"true" if purelib else b"false"))
    if entry_points is not None:
        files[distinfo + "/entry_points.txt"] = entry_points
    files[distinfo + "/RECORD"] = b""
    path = os.path.join(directory, "%s-%s-py3-none-any.whl" % (name, version))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo(name.split("-")[0] + "/"), b"")
        for member, data in files.items():
            info = zipfile.ZipInfo(member)
            info.external_attr = (0o755 if member in executable else 0o644) << 16
            archive.writestr(info, data)
    return path


class VenvCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)
        self.venv = os.path.join(self.tmp, "venv")
        self.lib = os.path.join(self.venv, "lib", "python" + VERSION, "site-packages")
        os.makedirs(self.lib)
        os.makedirs(os.path.join(self.venv, "bin"))
        # The venv's interpreter: this one (compile_bytecode runs it).
        os.symlink(sys.executable, os.path.join(self.venv, "bin", "python"))
        self.scheme = install_wheels.venv_scheme(self.venv)
        self.wheels = os.path.join(self.tmp, "wheels")
        os.mkdir(self.wheels)


class InstallTest(VenvCase):
    def test_layout_modes_scripts_and_record(self):
        path = make_wheel(
            self.wheels,
            files={
                "demo_pkg/__init__.py": b"def main():\n    return 0\n",
                "demo_pkg/tool.sh": b"#!/bin/sh\n",
                "demo_pkg-1.0.data/scripts/demo-raw": b"#!python\nprint('raw')\n",
                "demo_pkg-1.0.data/data/share/demo.txt": b"data\n",
            },
            entry_points=b"[console_scripts]\ndemo = demo_pkg:main\n[other]\nx = y:z\n",
            executable=("demo_pkg/tool.sh", "demo_pkg-1.0.data/scripts/demo-raw"),
        )
        self.assertEqual(install_wheels.install_all([path], self.scheme), [])
        mode = lambda p: stat.S_IMODE(os.stat(p).st_mode) & 0o111  # noqa: E731
        self.assertEqual(mode(os.path.join(self.lib, "demo_pkg", "tool.sh")), 0o111)
        self.assertEqual(mode(os.path.join(self.lib, "demo_pkg", "__init__.py")), 0)
        python = os.path.join(self.venv, "bin", "python")
        with open(os.path.join(self.venv, "bin", "demo-raw"), "rb") as f:
            self.assertEqual(f.read(), b"#!" + python.encode() + b"\nprint('raw')\n")
        with open(os.path.join(self.venv, "bin", "demo"), encoding="utf-8") as f:
            launcher = f.read()
        self.assertTrue(launcher.startswith("#!%s\n" % python))
        self.assertIn("from demo_pkg import main\n", launcher)
        self.assertIn("sys.exit(main())", launcher)
        self.assertEqual(mode(os.path.join(self.venv, "bin", "demo")), 0o111)
        self.assertTrue(os.path.isfile(os.path.join(self.venv, "share", "demo.txt")))
        distinfo = os.path.join(self.lib, "demo_pkg-1.0.dist-info")
        with open(os.path.join(distinfo, "INSTALLER"), "rb") as f:
            self.assertEqual(f.read(), b"pyfront\n")
        with open(os.path.join(distinfo, "RECORD"), encoding="utf-8") as f:
            rows = f.read().splitlines()
        # Next to the source, whatever this process's PYTHONPYCACHEPREFIX
        # (the venv's interpreter compiles under -I).
        pyc = "demo_pkg/__pycache__/__init__.%s.pyc" % sys.implementation.cache_tag
        self.assertIn("%s,," % pyc, rows)
        self.assertIn("demo_pkg-1.0.dist-info/RECORD,,", rows)
        self.assertIn("demo_pkg-1.0.dist-info/REQUESTED,%s,0" % record_hash(b""), rows)
        self.assertIn("../../../bin/demo,%s,%d" % (record_hash(launcher.encode()), len(launcher)), rows)
        self.assertIn("../../../share/demo.txt,%s,5" % record_hash(b"data\n"), rows)
        self.assertEqual(rows, sorted(rows))
        # The launcher runs the entry point.
        self.assertEqual(subprocess.call([sys.executable, os.path.join(self.venv, "bin", "demo")],
                                         env=dict(os.environ, PYTHONPATH=self.lib)), 0)

    def test_a_path_out_of_the_venv_is_a_failure(self):
        for bad in ("../evil.py", "demo_pkg/../../evil.py", "/abs.py", "demo_pkg-1.0.data/data/../../x"):
            with self.subTest(bad=bad):
                path = make_wheel(self.wheels, files={bad: b"x"})
                with self.assertRaises(Failure) as caught:
                    install_wheels.install_all([path], self.scheme)
                self.assertIn("outside the venv's directories", caught.exception.message)
                self.assertIn(bad, caught.exception.message)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "evil.py")))

    def test_what_pip_does_differently_is_left_to_pip(self):
        cases = {
            "unknown data key": dict(files={"demo_pkg-1.0.data/other/x": b"x"}),
            "wheel version 2": dict(wheel_meta=b"Wheel-Version: 2.0\nRoot-Is-Purelib: true\n"),
            "no WHEEL version": dict(wheel_meta=b"Root-Is-Purelib: true\n"),
            "entry point without attr": dict(entry_points=b"[console_scripts]\ndemo = demo_pkg\n"),
            "script name with a slash": dict(entry_points=b"[console_scripts]\na/b = demo_pkg:main\n"),
            "broken entry points": dict(entry_points=b"[console_scripts\n"),
        }
        for what, kwargs in cases.items():
            with self.subTest(what=what):
                directory = tempfile.mkdtemp(dir=self.tmp)
                path = make_wheel(directory, **kwargs)
                self.assertEqual(install_wheels.install_all([path], self.scheme), [path])
                self.assertEqual(os.listdir(self.lib), [])

    def test_an_installed_package_is_left_to_pip(self):
        os.mkdir(os.path.join(self.lib, "Demo_Pkg-0.9.dist-info"))
        path = make_wheel(self.wheels)
        self.assertEqual(install_wheels.install_all([path], self.scheme), [path])

    def test_platlib_and_a_file_that_does_not_compile(self):
        path = make_wheel(self.wheels, purelib=False,
                          files={"demo_pkg/__init__.py": b"x = 1\n", "demo_pkg/py2.py": b"print 'x'\n"})
        self.assertEqual(install_wheels.install_all([path], self.scheme), [])
        with open(os.path.join(self.lib, "demo_pkg-1.0.dist-info", "RECORD"), encoding="utf-8") as f:
            record = f.read()
        self.assertIn("__init__.cpython", record)
        self.assertNotIn("py2.cpython", record)

    def test_wheels_that_share_a_file_both_install(self):
        paths = [
            make_wheel(self.wheels, name=name, files={"ns/__init__.py": b"", "ns/%s.py" % name: b""})
            for name in ("first", "second")
        ]
        self.assertEqual(install_wheels.install_all(paths, self.scheme), [])
        self.assertEqual(sorted(os.listdir(os.path.join(self.lib, "ns"))),
                         ["__init__.py", "__pycache__", "first.py", "second.py"])

    def test_no_single_site_packages_means_pip(self):
        os.makedirs(os.path.join(self.venv, "lib", "python3.99", "site-packages"))
        self.assertIsNone(install_wheels.venv_scheme(self.venv))
        self.assertIsNone(install_wheels.venv_scheme(os.path.join(self.tmp, "none")))


class SplitTest(unittest.TestCase):
    H = {c: c * 64 for c in "abcdef"}

    def test_wheels_to_us_the_rest_to_pip(self):
        manifest = {
            "Demo_Pkg-1.0-py3-none-any.whl": self.H["a"],
            "other-2.0.tar.gz": self.H["b"],
            "pip-25.0-py3-none-any.whl": self.H["c"],
            "renamed-1.0-py3-none-any.whl": self.H["d"],
        }
        text = (
            "demo-pkg==1.0 --hash=sha256:%s\nother==2.0 --hash=sha256:%s\n\npip==25.0 --hash=sha256:%s\n"
            "wanted==1.0 --hash=sha256:%s\nmissing==1.0 --hash=sha256:%s\n"
            % (self.H["a"], self.H["b"], self.H["c"], self.H["d"], self.H["e"])
        )
        ours, rest = install_wheels.split(text, manifest, "/wh")
        self.assertEqual(ours, [("/wh/Demo_Pkg-1.0-py3-none-any.whl", "demo-pkg==1.0 --hash=sha256:" + self.H["a"])])
        self.assertEqual([line.split("==")[0] for line in rest], ["other", "pip", "wanted", "missing"])

    def test_a_line_of_another_form_sends_all_to_pip(self):
        manifest = {"a-1.0-py3-none-any.whl": self.H["a"]}
        for line in ("a==1.0", "a==1.0 --hash=sha256:%s ; python_version > '3'" % self.H["a"], "-r other.txt"):
            with self.subTest(line=line):
                text = "a==1.0 --hash=sha256:%s\n%s\n" % (self.H["a"], line)
                ours, rest = install_wheels.split(text, manifest, "/wh")
                self.assertEqual(ours, [])
                self.assertEqual(len(rest), 2)


class ProgramTest(VenvCase):
    """install.py in the wheelhouse-install mode with pip: the wheels of
    the pinned set are installed without pip; pip is not even looked for
    when nothing is left to it."""

    def test_pinned_wheels_install_without_pip(self):
        first = make_wheel(self.wheels)
        second = make_wheel(self.wheels, name="other", files={"other.py": b"X = 2\n"})
        files = {}
        for path in (first, second):
            with open(path, "rb") as f:
                files[os.path.basename(path)] = hashlib.sha256(f.read()).hexdigest()
        with open(os.path.join(self.wheels, "manifest.json"), "w") as f:
            json.dump({"version": 1, "files": files}, f)
        requirements = os.path.join(self.tmp, "requirements.txt")
        with open(requirements, "w") as f:
            f.write("demo-pkg==1.0 --hash=sha256:%s\nother==1.0 --hash=sha256:%s\n"
                    % (files[os.path.basename(first)], files[os.path.basename(second)]))
        config = dict(testdata("wheelhouse-install"), installer="pip", tool=None, members=None,
                      venv=self.venv, wheelhouse=self.wheels, requirements=requirements)
        helper = os.path.join(self.tmp, "helper")
        os.mkdir(helper)
        mount_helper(helper, install_modules())
        with open(os.path.join(helper, "install.json"), "w") as f:
            json.dump(config, f)
        # No pip on PATH, and `python3 -m pip` would fail: none is needed.
        proc = subprocess.run(
            [sys.executable, "-I", os.path.join(helper, "install.py"), os.path.join(helper, "install.json")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
            env={"PATH": "/nonexistent"},
        )
        self.assertEqual((proc.returncode, proc.stderr), (0, ""))
        self.assertEqual(proc.stdout, "pyfront: installed 2 wheels from the wheelhouse "
                                      "(hash-checked, no package code runs)\n")
        self.assertTrue(os.path.isfile(os.path.join(self.lib, "other.py")))
        self.assertTrue(os.path.isfile(os.path.join(self.lib, "demo_pkg-1.0.dist-info", "RECORD")))


if __name__ == "__main__":
    unittest.main()
