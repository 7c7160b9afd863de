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


if __name__ == "__main__":
    unittest.main()
