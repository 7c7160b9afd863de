"""Tests of lockselect.py, the select step: its config, the uv side (a
real `uv export` when uv is at hand), the plan it writes, and the program
as the step runs it.

../testdata/lock-uv/ holds a project, the uv.lock uv 0.13.9 wrote for it,
and the pylock.toml `uv export --group sdist --group dev --extra yaml`
made of it. The real-uv tests run with the uv in $PYFRONT_TEST_UV or on
PATH (e.g. `pip install uv==0.13.9` into a scratch venv), else skip.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import fetch_config
import lockselect_config
import lockselect_plan
import lockselect_uv
from fetch_config import parse_config as parse_fetch_config
from helper_test_support import lockselect_modules, mount_helper
from install_failure import Failure
from pyfront_config import CONFIG_HINT, ConfigError
from pyfront_redact import Masker
from pyfront_wheels import tag_ranks

HERE = os.path.dirname(os.path.abspath(__file__))
UV_PROJECT = os.path.join(HERE, "..", "testdata", "lock-uv")
POETRY_PROJECT = os.path.join(HERE, "..", "testdata", "lock-poetry")
UV = os.environ.get("PYFRONT_TEST_UV") or shutil.which("uv")


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def index(name, url, default=False, secret=None):
    return {"name": name, "url": url, "username": "ci" if secret else None, "username_secret": None,
            "password_secret": secret, "default": default}


def config(mode="uv", out="/tmp/plan", **changes):
    c = {
        "version": 1,
        "mode": mode,
        "tool": (UV or "/opt/pyfront-tools/bin/uv") if mode == "uv" else None,
        "cwd": UV_PROJECT if mode == "uv" else POETRY_PROJECT,
        "groups": ["main"],
        "extras": [],
        "project": False,
        "package": None,
        "out": out,
        "members": None,
        "wheelhouse": "/var/lib/pyfront/wheelhouse",
        "fetch_cache_dir": "/root/.cache/pyfront-fetch",
        "indexes": [index("corp", "https://pypi.org/simple/", secret="pypi_token")],
        "hints": ["if uv says the lock file needs to be updated, run `uv lock` and commit `uv.lock`"],
    }
    c.update(changes)
    return c


class ConfigTest(unittest.TestCase):
    def error(self, c):
        with self.assertRaises(ConfigError) as caught:
            lockselect_config.validate_config(c)
        return str(caught.exception)

    def test_valid(self):
        lockselect_config.validate_config(config())
        lockselect_config.validate_config(config("poetry"))

    def test_errors(self):
        self.assertEqual(self.error(dict(config(), version=2)),
                         "config version 2 is not supported (this lockselect.py reads version 1)")
        self.assertEqual(self.error(dict(config(), extra_key=1)), "unknown key `extra_key` in the config")
        missing = config()
        del missing["project"]
        self.assertEqual(self.error(missing), "missing key `project` in the config")
        self.assertEqual(self.error(dict(config(), project="yes")), '`project` must be true or false, not "yes"')
        self.assertEqual(self.error(dict(config(), mode="pip")), '`mode` must be `uv` or `poetry`, not "pip"')
        self.assertIn("`tool` must be uv's path", self.error(dict(config("poetry"), tool="/uv")))
        self.assertIn("`tool` must be uv's path", self.error(dict(config(), tool=None)))
        bad_index = config()
        bad_index["indexes"][0]["token"] = "x"
        self.assertEqual(self.error(bad_index), "unknown key `token` in `indexes[0]`")
        two = config(indexes=[index("a", "https://a/simple", True), index("b", "https://b/simple", True)])
        self.assertEqual(self.error(two), "more than one index is `default`")

    def test_parse_names_the_file(self):
        with self.assertRaises(Failure) as caught:
            lockselect_config.parse_config('{"version": 1}', "lockselect.json")
        self.assertTrue(caught.exception.message.startswith("lockselect.json: "))
        self.assertEqual(caught.exception.hints, [CONFIG_HINT])


class UvSelectTest(unittest.TestCase):
    """The pylock.toml of testdata, read on this interpreter."""

    def select(self, **changes):
        chosen, members = lockselect_uv.select(read(os.path.join(UV_PROJECT, "pylock.toml")), config(**changes), tag_ranks())
        self.assertEqual(members, [])
        return chosen

    def test_files(self):
        chosen = {c.name: c for c in self.select()}
        # colorama is win32-only in main but unconditional in dev: the
        # export (with dev) leaves it without a marker.
        self.assertEqual(sorted(chosen), ["colorama", "docopt", "iniconfig", "pyyaml", "six"])
        self.assertEqual(chosen["docopt"].filename, "docopt-0.6.2.tar.gz")
        self.assertEqual(chosen["docopt"].sha256, "49b3a825280bd66b3aa83585ef59c4a8c82f2c8a522dbe754a8bc8d08c85c491")
        self.assertTrue(chosen["six"].url.endswith("/six-1.17.0-py2.py3-none-any.whl"))
        # The lock's index URL lacks the spec's trailing slash: the same index.
        self.assertEqual(chosen["six"].index, "corp")
        self.assertIsNone(self.select(indexes=[])[0].index)

    def test_markers(self):
        text = '[[packages]]\nname = "w"\nversion = "1"\nmarker = "sys_platform == \'win32\'"\n' \
               'wheels = [{url = "https://h/w-1-py3-none-any.whl", hashes = {sha256 = "' + "a" * 64 + '"}}]\n'
        self.assertEqual(lockselect_uv.select(text, config(), tag_ranks()), ([], []))  # not win32

    def test_no_file_for_this_interpreter(self):
        text = '[[packages]]\nname = "w"\nversion = "1"\n' \
               'wheels = [{url = "https://h/w-1-cp27-cp27m-win32.whl", hashes = {sha256 = "' + "a" * 64 + '"}}]\n'
        with self.assertRaises(Failure) as caught:
            lockselect_uv.select(text, config(), tag_ranks())
        self.assertIn("w 1: the lock has no wheel for this interpreter and no sdist", caught.exception.message)

    def test_non_index_sources(self):
        text = '[[packages]]\nname = "v"\nversion = "1"\nvcs = {type = "git", url = "https://h/v.git", commit-id = "abc"}\n'
        with self.assertRaises(Failure) as caught:
            lockselect_uv.select(text, config(), tag_ranks())
        self.assertIn("`v 1` comes from a vcs source", caught.exception.message)

    def test_export_argv(self):
        argv = lockselect_uv.export_argv(config(tool="/uv", groups=["main", "dev"], extras=["s3"]), "/p/pylock.toml")
        self.assertEqual(argv, [
            "/uv", "export", "--locked", "--offline", "--format", "pylock.toml", "--no-emit-project", "--no-header",
            "--no-default-groups", "--group", "dev", "--extra", "s3", "--python", sys.executable, "-o", "/p/pylock.toml",
        ])
        argv = lockselect_uv.export_argv(config(tool="/uv", groups=["dev", "ml"], extras=[]), "/p/pylock.toml")
        self.assertEqual(argv[8:12], ["--only-group", "dev", "--only-group", "ml"])
        # A workspace member: its dependencies, without the member itself.
        argv = lockselect_uv.export_argv(config(tool="/uv", package="backend"), "/p/pylock.toml")
        self.assertEqual(argv[6:11], ["--no-emit-project", "--no-header", "--package", "backend", "--no-default-groups"])

    def test_export_hints(self):
        c = config(package="backend", hints=["check the workspace"])
        hints = lockselect_uv.export_hints(c, b"error: The workspace does not have a member backend: /ctx\n")
        self.assertEqual(len(hints), 2)
        self.assertIn("`package = \"backend\"` must name a member", hints[0])
        self.assertEqual(hints[1], "check the workspace")
        self.assertEqual(lockselect_uv.export_hints(c, b"other"), ["check the workspace"])


class PlanTest(unittest.TestCase):
    def test_fetch_json_and_requirements(self):
        chosen = [
            lockselect_plan.Chosen("Zeta_Pkg", "1.0", "zeta_pkg-1.0-py3-none-any.whl", "https://h/z.whl", "b" * 64, None),
            lockselect_plan.Chosen("alpha", "2.0", "alpha-2.0.tar.gz", None, "a" * 64, "corp"),
        ]
        c = config(indexes=[index("mirror", "https://m/simple"), index("corp", "https://c/simple", True, "tok")])
        fetch = lockselect_plan.fetch_config(c, chosen, ["wheel", "setuptools>=40.8.0", "wheel"])
        parse_fetch_config(fetch)
        self.assertEqual([i["name"] for i in fetch["indexes"]], ["corp", "mirror"])
        self.assertNotIn("default", fetch["indexes"][0])
        self.assertEqual(fetch["build_requirements"], ["setuptools>=40.8.0", "wheel"])
        self.assertEqual(fetch["lookups"], [{"name": "alpha", "version": "2.0", "index": "corp",
                                             "files": [{"filename": "alpha-2.0.tar.gz", "sha256": "a" * 64}]}])
        self.assertEqual(len(fetch["files"]), 1)
        self.assertEqual(
            lockselect_plan.requirements_txt(chosen),
            "alpha==2.0 --hash=sha256:%s\nZeta_Pkg==1.0 --hash=sha256:%s\n" % ("a" * 64, "b" * 64),
        )
        # No default index: PyPI first, so `index: null` means PyPI.
        self.assertEqual(fetch_config.fetch_indexes(config())[0], {"name": "pypi", "url": "https://pypi.org/simple"})

    def test_project_build_requirements(self):
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        self.assertEqual(lockselect_plan.project_build_requirements(tmp), ["setuptools>=40.8.0", "wheel"])
        with open(os.path.join(tmp, "pyproject.toml"), "w") as f:
            f.write('[build-system]\nrequires = ["poetry-core>=2"]\n')
        self.assertEqual(lockselect_plan.project_build_requirements(tmp), ["poetry-core>=2"])
        with open(os.path.join(tmp, "pyproject.toml"), "w") as f:
            f.write('[build-system]\nrequires = ["x @ https://h/x.tar.gz"]\n')
        with self.assertRaises(Failure):
            lockselect_plan.project_build_requirements(tmp)

    def test_two_files_of_one_package(self):
        chosen = [lockselect_plan.Chosen("a", "1", "a-1.tar.gz", None, "a" * 64, None),
                  lockselect_plan.Chosen("A", "2", "a-2.tar.gz", None, "b" * 64, None)]
        with self.assertRaises(Failure):
            lockselect_plan.check_unique(chosen)


class ProgramTest(unittest.TestCase):
    """lockselect.py as a process under `python3 -I`, from a directory
    holding exactly its modules."""

    def run_program(self, c):
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        helper = os.path.join(tmp, "helper")
        os.mkdir(helper)
        mount_helper(helper, lockselect_modules())
        c = dict(c, out=os.path.join(tmp, "plan"))
        path = os.path.join(helper, "lockselect.json")
        with open(path, "w") as f:
            json.dump(c, f)
        proc = subprocess.run(
            [sys.executable, "-I", os.path.join(helper, "lockselect.py"), path],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
            env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"),
        )
        return proc, c["out"]

    def plan(self, out):
        return {name: read(os.path.join(out, name)) for name in sorted(os.listdir(out))}

    def test_poetry(self):
        proc, out = self.run_program(config("poetry", groups=["main", "sdist"], project=True))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        plan = self.plan(out)
        self.assertEqual(sorted(plan), ["fetch.json", "requirements.txt"])
        self.assertIn("docopt==0.6.2 --hash=sha256:49b3a825", plan["requirements.txt"])
        fetch = json.loads(plan["fetch.json"])
        self.assertEqual(fetch["build_requirements"], ["setuptools>=40.8.0", "wheel"])
        self.assertEqual(fetch["files"], [])
        # The same lock gives the same bytes.
        self.assertEqual(self.plan(self.run_program(config("poetry", groups=["main", "sdist"], project=True))[1]), plan)

    def test_bad_config(self):
        proc, _ = self.run_program(dict(config(), version="1"))
        self.assertEqual(proc.returncode, 2)
        self.assertIn("pyfront: error: lockselect.json: `version` must be an integer", proc.stderr)

    @unittest.skipUnless(UV, "no uv (set PYFRONT_TEST_UV)")
    def test_uv(self):
        proc, out = self.run_program(config(groups=["main", "sdist"], extras=["yaml"]))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        plan = self.plan(out)
        self.assertEqual(sorted(plan), ["fetch.json", "pylock.toml", "requirements.txt"])
        names = [line.split("==")[0] for line in plan["requirements.txt"].splitlines()]
        self.assertEqual(names, ["docopt", "pyyaml", "six"])
        parse_fetch_config(json.loads(plan["fetch.json"]))

    @unittest.skipUnless(UV, "no uv (set PYFRONT_TEST_UV)")
    def test_uv_stale_lock(self):
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        for name in ("pyproject.toml", "uv.lock"):
            shutil.copy(os.path.join(UV_PROJECT, name), tmp)
        with open(os.path.join(tmp, "pyproject.toml"), "a") as f:
            f.write("\n[tool.uv]\nconstraint-dependencies = [\"six<1.17\"]\n")
        proc, _ = self.run_program(config(cwd=tmp))
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("pyfront: error: uv could not export uv.lock for this build", proc.stderr)
        self.assertIn("pyfront: hint: if uv says the lock file needs to be updated, run `uv lock`", proc.stderr)


class MaskTest(unittest.TestCase):
    def test_uv_output_is_masked(self):
        c = config(tool="/bin/sh", cwd=tempfile.gettempdir())
        masker = Masker("****")
        masker.add("s3cret-value")
        # A "uv" that prints a secret and fails.
        script = os.path.join(tempfile.mkdtemp(), "uv")
        self.addCleanup(shutil.rmtree, os.path.dirname(script))
        with open(script, "w") as f:
            f.write("#!/bin/sh\necho 'token s3cret-value'\nexit 3\n")
        os.chmod(script, 0o755)
        c["tool"] = script
        c["out"] = os.path.join(os.path.dirname(script), "plan")
        import io
        from unittest import mock
        buffer = io.BytesIO()
        with mock.patch.object(sys, "stdout", mock.Mock(buffer=buffer)):
            with self.assertRaises(Failure) as caught:
                lockselect_uv.run_export(c, masker)
        self.assertIn("exit code 3", caught.exception.message)
        self.assertEqual(buffer.getvalue(), b"token ****\n")


if __name__ == "__main__":
    unittest.main()
