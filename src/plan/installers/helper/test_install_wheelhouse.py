"""Tests of install_wheelhouse.py and the wheelhouse-install mode: the
manifest check before anything is installed."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import install_wheelhouse
from helper_test_support import install_modules, mount_helper, testdata
from install_failure import Failure


class ManifestTest(unittest.TestCase):
    def setUp(self):
        self.wheelhouse = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.wheelhouse)
        self.files = {"a-1.0-py3-none-any.whl": b"wheel a", "b-1.0.tar.gz": b"sdist b"}
        for name, data in self.files.items():
            with open(os.path.join(self.wheelhouse, name), "wb") as f:
                f.write(data)
        manifest = {"version": 1, "files": {n: hashlib.sha256(d).hexdigest() for n, d in self.files.items()}}
        with open(os.path.join(self.wheelhouse, "manifest.json"), "w") as f:
            json.dump(manifest, f)

    def test_intact(self):
        self.assertEqual(sorted(install_wheelhouse.check_wheelhouse(self.wheelhouse)), sorted(self.files))

    def test_changed_file(self):
        with open(os.path.join(self.wheelhouse, "b-1.0.tar.gz"), "wb") as f:
            f.write(b"other")
        with self.assertRaises(Failure) as caught:
            install_wheelhouse.check_wheelhouse(self.wheelhouse)
        self.assertEqual(
            caught.exception.message,
            "sha256 mismatch for `b-1.0.tar.gz` in the wheelhouse: expected %s, received %s"
            % (hashlib.sha256(b"sdist b").hexdigest(), hashlib.sha256(b"other").hexdigest()),
        )

    def test_missing_file_and_manifest(self):
        os.unlink(os.path.join(self.wheelhouse, "a-1.0-py3-none-any.whl"))
        with self.assertRaises(Failure) as caught:
            install_wheelhouse.check_wheelhouse(self.wheelhouse)
        self.assertIn("lacks `a-1.0-py3-none-any.whl`", caught.exception.message)
        os.unlink(os.path.join(self.wheelhouse, "manifest.json"))
        with self.assertRaises(Failure) as caught:
            install_wheelhouse.check_wheelhouse(self.wheelhouse)
        self.assertIn("cannot read the wheelhouse manifest", caught.exception.message)

    def test_program_stops_before_the_installer(self):
        with open(os.path.join(self.wheelhouse, "b-1.0.tar.gz"), "ab") as f:
            f.write(b"!")
        helper = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, helper)
        mount_helper(helper, install_modules())
        marker = os.path.join(helper, "installer-ran")
        tool = os.path.join(helper, "uv")
        with open(tool, "w") as f:
            f.write("#!/bin/sh\ntouch %s\n" % marker)
        os.chmod(tool, 0o755)
        config = dict(testdata("wheelhouse-install"), tool=tool, wheelhouse=self.wheelhouse)
        path = os.path.join(helper, "install.json")
        with open(path, "w") as f:
            json.dump(config, f)
        proc = subprocess.run([sys.executable, "-I", os.path.join(helper, "install.py"), path],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                              env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("pyfront: error: sha256 mismatch for `b-1.0.tar.gz`", proc.stderr)
        self.assertFalse(os.path.exists(marker))


class MembersTest(unittest.TestCase):
    """uv workspaces: the members the select step copied, installed after
    the locked packages from writable copies."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)
        self.members = os.path.join(self.tmp, "members")
        for name in ("acme-sdk-a", "acme-sdk-b"):
            os.makedirs(os.path.join(self.members, "src", name))
            with open(os.path.join(self.members, "src", name, "pyproject.toml"), "w") as f:
                f.write("[project]\nname = %r\n" % name)
        with open(os.path.join(self.members, "members.txt"), "w") as f:
            f.write("acme-sdk-a\nacme-sdk-b\n")

    def test_read_members(self):
        self.assertEqual(install_wheelhouse.read_members(self.members), ["acme-sdk-a", "acme-sdk-b"])
        with open(os.path.join(self.members, "members.txt"), "a") as f:
            f.write("../etc\n")
        with self.assertRaises(Failure) as caught:
            install_wheelhouse.read_members(self.members)
        self.assertIn("lacks `src/../etc`", caught.exception.message)

    def test_argv(self):
        config = testdata("wheelhouse-install")
        args, env = install_wheelhouse.uv_members_command(config, ["/tmp/s/acme-sdk-a", "/tmp/s/acme-sdk-b"])
        self.assertEqual(args, [
            "/opt/pyfront-tools/bin/uv", "pip", "install", "--offline", "--no-index",
            "--find-links", "/run/pyfront/wheelhouse", "--no-deps", "--python", "/opt/venv/bin/python",
            "/tmp/s/acme-sdk-a", "/tmp/s/acme-sdk-b",
        ])
        self.assertEqual(env["UV_OFFLINE"], "1")
        args, _ = install_wheelhouse.pip_members_command(["pip"], config, ["/tmp/s/a"])
        self.assertEqual(args, ["pip", "install", "--no-index", "--find-links", "/run/pyfront/wheelhouse",
                                "--no-deps", "--no-cache-dir", "/tmp/s/a"])

    def test_program_installs_the_members_after_the_lock(self):
        wheelhouse = os.path.join(self.tmp, "wheelhouse")
        os.mkdir(wheelhouse)
        install_wheelhouse.write_manifest(wheelhouse)
        helper = os.path.join(self.tmp, "helper")
        os.mkdir(helper)
        mount_helper(helper, install_modules())
        log = os.path.join(self.tmp, "calls")
        tool = os.path.join(helper, "uv")
        # A "uv" that logs each call's arguments, and whether each path
        # argument is a writable copy of a member.
        with open(tool, "w") as f:
            f.write('#!/bin/sh\necho "$*" >> %s\nfor a; do [ -w "$a/pyproject.toml" ] && echo "writable $(basename $a)" >> %s; done\nexit 0\n'
                    % (log, log))
        os.chmod(tool, 0o755)
        config = dict(testdata("wheelhouse-install"), tool=tool, wheelhouse=wheelhouse, members=self.members)
        path = os.path.join(helper, "install.json")
        with open(path, "w") as f:
            json.dump(config, f)
        proc = subprocess.run([sys.executable, "-I", os.path.join(helper, "install.py"), path],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                              env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("pyfront: installing local packages acme-sdk-a, acme-sdk-b (non-editable)", proc.stdout)
        with open(log) as f:
            calls = f.read().splitlines()
        self.assertIn("--require-hashes", calls[0])
        self.assertTrue(calls[1].startswith("pip install --offline --no-index --find-links %s --no-deps" % wheelhouse))
        self.assertNotIn(self.members, calls[1])  # copies, not the read-only mount
        self.assertEqual(calls[2:], ["writable acme-sdk-a", "writable acme-sdk-b"])


if __name__ == "__main__":
    unittest.main()
