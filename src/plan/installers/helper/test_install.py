"""Tests of install.py as a program: run as the step runs it, from a
directory holding exactly the files src/plan/installers/mod.rs mounts.

    python3 -m unittest discover -s src/plan/installers/helper -p 'test_*.py'

The other test_install_*.py test its modules; ../testdata/<mode>.json are
the configs config.rs's tests serialize, byte for byte, so those tests read
exactly what pyfront writes.
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

import install_failure
from helper_test_support import install_modules, mount_helper, testdata
from install_config import CONFIG_HINT
from pyfront_redact import Masker


class ProgramTest(unittest.TestCase):
    """The program as a process: a bad config stops it with exit code 2
    before anything runs."""

    def run_program(self, *args, rules=True, isolated=False):
        """Runs install.py as the step does: its modules and (`rules`)
        redact_rules.json next to it, and `args`; each arg is a file's text.
        `isolated`: under `python3 -I`."""
        with tempfile.TemporaryDirectory() as tmp:
            mount_helper(tmp, install_modules(), rules)
            paths = []
            for i, text in enumerate(args):
                paths.append(os.path.join(tmp, "install.json" if i == 0 else "extra%d" % i))
                with open(paths[-1], "w", encoding="utf-8") as f:
                    f.write(text)
            return subprocess.run(
                [sys.executable] + (["-I"] if isolated else []) + [os.path.join(tmp, "install.py")] + paths,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                universal_newlines=True,
                # Byte code of the copies goes nowhere near the sources.
                env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"),
            )

    def test_bad_config(self):
        config = testdata("wheelhouse-install")
        config["hints"] = "main"
        for isolated in (False, True):
            with self.subTest(isolated=isolated):
                proc = self.run_program(json.dumps(config), isolated=isolated)
                self.assertEqual(proc.returncode, 2)
                self.assertEqual(proc.stdout, "")
                self.assertEqual(
                    proc.stderr,
                    'pyfront: error: install.json: `hints` must be a list, not "main"\n'
                    "pyfront: hint: " + CONFIG_HINT + "\n",
                )

    def test_usage(self):
        for args in [(), ("{}", "{}")]:
            with self.subTest(args=len(args)):
                proc = self.run_program(*args)
                self.assertEqual(proc.returncode, 2)
                self.assertEqual(proc.stderr, "pyfront: error: usage: install.py CONFIG\n")

    def test_missing_rules_warn_and_still_mask(self):
        proc = self.run_program('{"version": 1, "mode": "https://u:tok@host/"}', rules=False)
        self.assertEqual(proc.returncode, 2)
        lines = proc.stderr.splitlines()
        self.assertTrue(lines[0].startswith("pyfront: warning: cannot use "), lines)
        self.assertTrue(lines[0].endswith("redact_rules.json ([Errno 2] No such file or directory: '%s'): "
                                          "masking with `****`" % lines[0].split("'")[1]), lines)
        self.assertTrue(lines[1].startswith("pyfront: error: install.json: unknown mode `https://u:****@host/`"),
                        lines)


class ReportTest(unittest.TestCase):
    def test_reports_are_masked(self):
        masker = Masker("****")
        masker.add("tok")
        failure = install_failure.Failure("no tok here", ["see https://u:tok2@h/"])
        self.assertEqual(
            install_failure.report(failure, masker),
            "pyfront: error: no **** here\npyfront: hint: see https://u:****@h/\n",
        )


if __name__ == "__main__":
    unittest.main()
