"""Tests of install_local.py: the requirement files' copies with the local
requirements blanked, the config's `local`, and the commands."""

import os
import shutil
import tempfile
import unittest

import install_local
from helper_test_support import testdata
from install_config import validate_config
from install_failure import Failure
from pyfront_config import ConfigError


class CopyTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)
        self.cwd = os.path.join(self.tmp, "context")
        os.makedirs(os.path.join(self.cwd, "requirements"))
        self.top = b"-r requirements/base.txt\n./libs/sdk[s3]\nflask\n"
        with open(os.path.join(self.cwd, "requirements.txt"), "wb") as f:
            f.write(self.top)
        with open(os.path.join(self.cwd, "requirements", "base.txt"), "wb") as f:
            f.write(b"requests\n")

    def config(self):
        start = self.top.index(b"./libs")
        return {
            "cwd": self.cwd,
            "requirements": [os.path.join(self.cwd, "requirements.txt"), "/run/pyfront/helper/local-dependencies.txt"],
            "local": {
                "files": ["requirements.txt", "requirements/base.txt"],
                "drop": [["requirements.txt", start, start + len(b"./libs/sdk[s3]")]],
                "build_requirements": [],
                "packages": [],
            },
        }

    def test_local_lines_are_blanked_in_copies(self):
        scratch = os.path.join(self.tmp, "scratch")
        requirements = install_local.copy_requirements(self.config(), scratch)
        self.assertEqual(requirements, [os.path.join(scratch, "requirements.txt"),
                                        "/run/pyfront/helper/local-dependencies.txt"])
        with open(requirements[0], "rb") as f:
            self.assertEqual(f.read(), b"-r requirements/base.txt\n" + b" " * 14 + b"\nflask\n")
        with open(os.path.join(scratch, "requirements", "base.txt"), "rb") as f:
            self.assertEqual(f.read(), b"requests\n")

    def test_blank_joins_a_continuation(self):
        self.assertEqual(install_local.blank(b"a\\\nb\nc\n", [(0, 4)]), b"    \nc\n")
        with self.assertRaises(Failure):
            install_local.blank(b"ab", [(0, 3)])

    def test_packages_are_copied(self):
        package = os.path.join(self.cwd, "libs", "sdk")
        os.makedirs(package)
        with open(os.path.join(package, "pyproject.toml"), "w") as f:
            f.write("[project]\n")
        copies = install_local.copy_packages([package, self.cwd + "/"], os.path.join(self.tmp, "s"))
        self.assertEqual([os.path.basename(c) for c in copies], ["0-sdk", "1-context"])
        self.assertTrue(os.path.exists(os.path.join(copies[0], "pyproject.toml")))

    def test_commands(self):
        config = dict(testdata("wheelhouse-requirements-local"))
        self.assertEqual(install_local.packages_argv(["pip"], config, ["/tmp/0-sdk"]), [
            "pip", "install", "--no-index", "--find-links", "/run/pyfront/wheelhouse",
            "--no-deps", "--no-cache-dir", "/tmp/0-sdk"])
        config = {"wheelhouse": "/w", "local": {"build_requirements": ["/h/b.txt"]}}
        self.assertEqual(install_local.build_requirements_argv(["pip"], config),
                         ["pip", "download", "--only-binary=:all:", "--dest", "/w", "-r", "/h/b.txt"])


class ConfigTest(unittest.TestCase):
    def test_valid(self):
        validate_config(testdata("wheelhouse-requirements-local"))
        config = testdata("wheelhouse-requirements")
        self.assertNotIn("local", config)
        validate_config(config)

    def test_invalid(self):
        bad = [
            {"drop": [["other.txt", 0, 1]]},
            {"drop": [["requirements.txt", 2, 1]]},
            {"files": ["../x.txt"]},
            {"packages": ["relative"]},
        ]
        for change in bad:
            config = testdata("wheelhouse-requirements-local")
            config["local"] = dict(config["local"], **change)
            with self.assertRaises(ConfigError, msg=change):
                validate_config(config)
        config = testdata("pip-project")
        config["local"] = None
        with self.assertRaises(ConfigError):
            validate_config(config)


if __name__ == "__main__":
    unittest.main()
