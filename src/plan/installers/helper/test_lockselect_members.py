"""Tests of local packages in the select step: uv workspaces, uv path
sources and Poetry path dependencies (lockselect_members.py,
lockselect_uv.py's local entries, lockselect_poetry.py's directory sources): which members are copied, what is left
out, what is refused, and a real `uv export` of a workspace when uv is at
hand ($PYFRONT_TEST_UV or PATH, e.g. uv 0.13.9 in a scratch venv; else the
test skips).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from unittest import mock

import lockselect_members
import lockselect_uv
from helper_test_support import lockselect_modules, mount_helper
from install_failure import Failure
from pyfront_wheels import tag_ranks
from test_lockselect import UV, config

SHA = "a" * 64


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def member_pyproject(name, deps=(), backend='["setuptools>=61"]'):
    text = '[project]\nname = "%s"\nversion = "0.1.0"\nrequires-python = ">=3.9"\ndependencies = %s\n' % (
        name, json.dumps(list(deps)))
    if backend:
        text += '[build-system]\nrequires = %s\nbuild-backend = "setuptools.build_meta"\n' % backend
    return text


def workspace(root):
    """A workspace at `root`: a virtual root, `app` -> `sdk-b` -> `sdk-a`,
    and clutter the copy must leave out."""
    write(os.path.join(root, "pyproject.toml"),
          '[project]\nname = "root"\nversion = "0"\nrequires-python = ">=3.9"\n'
          '[tool.uv]\npackage = false\n[tool.uv.workspace]\nmembers = ["packages/*"]\n')
    for name, deps in (("app", ["acme-sdk-b"]), ("sdk-b", ["acme-sdk-a"]), ("sdk-a", [])):
        base = os.path.join(root, "packages", name)
        text = member_pyproject("acme-" + name, deps)
        if deps:
            text += "[tool.uv.sources]\n%s = { workspace = true }\n" % deps[0]
        write(os.path.join(base, "pyproject.toml"), text)
        module = "acme_" + name.replace("-", "_")
        write(os.path.join(base, "src", module, "__init__.py"), "NAME = %r\n" % name)
        write(os.path.join(base, "src", module, "__pycache__", "x.cpython-311.pyc"), "")
        write(os.path.join(base, "src", module, "build", "keep.py"), "")  # not at the root
        write(os.path.join(base, "build", "lib", "junk.py"), "")
        write(os.path.join(base, ".venv", "pyvenv.cfg"), "")
        write(os.path.join(base, "src", "acme.egg-info", "PKG-INFO"), "")


def pylock(*entries):
    return "".join('[[packages]]\nname = "%s"\ndirectory = { path = "%s", editable = true }\n' % e for e in entries)


class MembersTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)
        self.context = os.path.join(self.tmp, "context")
        workspace(self.context)
        self.out = os.path.join(self.tmp, "members")
        self.config = config(cwd=self.context, out=os.path.join(self.tmp, "plan"), members=self.out, package="acme-app")
        # The export's paths are relative to the file uv wrote.
        self.exported = os.path.join(self.config["out"], "pylock.toml")

    def select(self, text):
        return lockselect_uv.select(text, self.config, tag_ranks(), self.exported)

    def test_members_are_copied_and_listed(self):
        text = pylock(("acme-sdk-b", "../context/packages/sdk-b"), ("Acme_SDK_a", "../context/packages/sdk-a"))
        text += '[[packages]]\nname = "six"\nversion = "1.17.0"\n' \
                'wheels = [{url = "https://h/six-1.17.0-py2.py3-none-any.whl", hashes = {sha256 = "%s"}}]\n' % SHA
        chosen, members = self.select(text)
        self.assertEqual([c.name for c in chosen], ["six"])
        self.assertEqual([m.name for m in members], ["acme-sdk-b", "Acme_SDK_a"])
        build = lockselect_members.write_members(members, self.out)
        self.assertEqual(build, ["setuptools>=61", "setuptools>=61"])
        with open(os.path.join(self.out, "members.txt")) as f:
            self.assertEqual(f.read(), "acme-sdk-a\nacme-sdk-b\n")
        copied = []
        for here, dirs, files in os.walk(os.path.join(self.out, "src")):
            copied += [os.path.relpath(os.path.join(here, n), self.out) for n in files]
        self.assertEqual(sorted(copied), [
            "src/acme-sdk-a/pyproject.toml",
            "src/acme-sdk-a/src/acme_sdk_a/__init__.py",
            "src/acme-sdk-a/src/acme_sdk_a/build/keep.py",
            "src/acme-sdk-b/pyproject.toml",
            "src/acme-sdk-b/src/acme_sdk_b/__init__.py",
            "src/acme-sdk-b/src/acme_sdk_b/build/keep.py",
        ])

    def test_no_member_still_writes_the_directory(self):
        self.assertEqual(lockselect_members.write_members([], self.out), [])
        self.assertEqual(sorted(os.listdir(self.out)), ["members.txt", "src"])

    def test_not_a_workspace_refuses_directories(self):
        self.config["members"] = None
        with self.assertRaises(Failure) as caught:
            self.select(pylock(("acme-sdk-a", "../context/packages/sdk-a")))
        self.assertIn("comes from a directory source", caught.exception.message)

    def test_a_member_outside_the_context(self):
        with self.assertRaises(Failure) as caught:
            self.select(pylock(("evil", "../../..")))
        self.assertIn("`evil` is a local package outside the build context", caught.exception.message)

    def test_a_marker_that_does_not_hold(self):
        text = pylock(("acme-sdk-a", "../context/packages/sdk-a")) + 'marker = "sys_platform == \'win32\'"\n'
        self.assertEqual(self.select(text), ([], []))

    def test_symlinks(self):
        sdk = os.path.join(self.context, "packages", "sdk-a")
        os.symlink("src/acme_sdk_a/__init__.py", os.path.join(sdk, "inside.py"))
        members = [lockselect_members.Member("acme-sdk-a", sdk)]
        lockselect_members.write_members(members, self.out)
        self.assertEqual(os.readlink(os.path.join(self.out, "src", "acme-sdk-a", "inside.py")),
                         "src/acme_sdk_a/__init__.py")
        os.symlink("../sdk-b/pyproject.toml", os.path.join(sdk, "outside.toml"))
        with self.assertRaises(Failure) as caught:
            lockselect_members.write_members(members, self.out)
        self.assertIn("`outside.toml` in local package `acme-sdk-a` is a symlink that leads out",
                      caught.exception.message)

    def test_bounds(self):
        sdk = os.path.join(self.context, "packages", "sdk-a")
        with mock.patch.object(lockselect_members, "MAX_FILES", 1):
            with self.assertRaises(Failure) as caught:
                lockselect_members.write_members([lockselect_members.Member("acme-sdk-a", sdk)], self.out)
        self.assertIn("has more than 1 files", caught.exception.message)
        self.assertIn("`.dockerignore`", caught.exception.hints[0])

    def test_a_member_without_pyproject(self):
        sdk = os.path.join(self.context, "packages", "sdk-a")
        os.unlink(os.path.join(sdk, "pyproject.toml"))
        with self.assertRaises(Failure) as caught:
            lockselect_members.write_members([lockselect_members.Member("acme-sdk-a", sdk)], self.out)
        self.assertIn("has no pyproject.toml", caught.exception.message)

    def test_the_pep_517_fallback(self):
        sdk = os.path.join(self.context, "packages", "sdk-a")
        write(os.path.join(sdk, "pyproject.toml"), member_pyproject("acme-sdk-a", backend=None))
        build = lockselect_members.write_members([lockselect_members.Member("acme-sdk-a", sdk)], self.out)
        self.assertEqual(build, ["setuptools>=40.8.0", "wheel"])


@unittest.skipUnless(UV, "no uv (set PYFRONT_TEST_UV)")
class RealUvWorkspaceTest(unittest.TestCase):
    """lockselect.py as the step runs it, on a workspace uv locked."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)
        self.context = os.path.join(self.tmp, "context")
        workspace(self.context)
        env = dict(os.environ, UV_CACHE_DIR=os.path.join(self.tmp, "cache"), UV_PYTHON_DOWNLOADS="never")
        subprocess.run([UV, "lock", "--offline", "--python", sys.executable], cwd=self.context, env=env,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def run_program(self, **changes):
        helper = os.path.join(self.tmp, "helper")
        shutil.rmtree(helper, ignore_errors=True)
        os.mkdir(helper)
        mount_helper(helper, lockselect_modules())
        c = config(cwd=self.context, out=os.path.join(self.tmp, "plan"), members=os.path.join(self.tmp, "members"),
                   package="acme-app", hints=["in a uv workspace, check"])
        c.update(changes)
        path = os.path.join(helper, "lockselect.json")
        with open(path, "w") as f:
            json.dump(c, f)
        return subprocess.run([sys.executable, "-I", os.path.join(helper, "lockselect.py"), path],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                              env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))

    def test_the_package_and_its_members(self):
        proc = self.run_program()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("copied 2 local packages", proc.stdout)
        with open(os.path.join(self.tmp, "members", "members.txt")) as f:
            self.assertEqual(f.read(), "acme-sdk-a\nacme-sdk-b\n")
        with open(os.path.join(self.tmp, "plan", "fetch.json")) as f:
            fetch = json.load(f)
        self.assertEqual(fetch["build_requirements"], ["setuptools>=61"])
        self.assertEqual(fetch["files"], [])
        with open(os.path.join(self.tmp, "plan", "requirements.txt")) as f:
            self.assertEqual(f.read(), "")

    def test_a_member_the_lock_does_not_know(self):
        proc = self.run_program(package="acme-backend")
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("pyfront: hint: `package = \"acme-backend\"` must name a member", proc.stderr)
        self.assertIn("pyfront: hint: in a uv workspace, check", proc.stderr)


def run_lockselect(tmp, config_):
    """lockselect.py as the step runs it, with `config_`."""
    helper = os.path.join(tmp, "helper")
    shutil.rmtree(helper, ignore_errors=True)
    os.mkdir(helper)
    mount_helper(helper, lockselect_modules())
    path = os.path.join(helper, "lockselect.json")
    with open(path, "w") as f:
        json.dump(config_, f)
    return subprocess.run([sys.executable, "-I", os.path.join(helper, "lockselect.py"), path],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))


class PoetryPathDependenciesTest(unittest.TestCase):
    """lockselect.py on ../testdata/lock-poetry-paths/ (Poetry 2.5.1's lock:
    sdk-a, `develop = true`, depends on the path dependency sdk-b)."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)
        self.context = os.path.join(self.tmp, "context")
        shutil.copytree(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testdata",
                                     "lock-poetry-paths"), self.context)
        write(os.path.join(self.context, "sdks", "sdk-a", ".venv", "pyvenv.cfg"), "")
        # The app's own code: not copied.
        write(os.path.join(self.context, "src", "app", "__init__.py"), "")

    def config(self):
        return config(mode="poetry", tool=None, package=None, project=False, cwd=self.context,
                      out=os.path.join(self.tmp, "plan"), members=os.path.join(self.tmp, "members"),
                      indexes=[{"name": "corp", "url": "https://pypi.org/simple", "username": None,
                                "username_secret": None, "password_secret": None, "default": True}])

    def test_the_path_dependencies_are_copied(self):
        proc = run_lockselect(self.tmp, self.config())
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("copied 2 local packages into %s: sdk-a, sdk-b" % os.path.join(self.tmp, "members"),
                      proc.stdout)
        self.assertIn("the lock installs sdk-a editable (`develop = true` / `editable = true`): the image "
                      "gets a regular, non-editable install", proc.stdout)
        members = os.path.join(self.tmp, "members")
        with open(os.path.join(members, "members.txt")) as f:
            self.assertEqual(f.read(), "sdk-a\nsdk-b\n")
        copied = sorted(os.path.relpath(os.path.join(d, n), members)
                        for d, _, files in os.walk(members) for n in files)
        self.assertEqual(copied, [
            "members.txt",
            "src/sdk-a/pyproject.toml", "src/sdk-a/src/sdk_a/__init__.py",
            "src/sdk-b/pyproject.toml", "src/sdk-b/src/sdk_b/__init__.py",
        ])
        with open(os.path.join(self.tmp, "plan", "fetch.json")) as f:
            fetch = json.load(f)
        self.assertEqual(fetch["build_requirements"], ["poetry-core>=2.0"])
        self.assertEqual([lookup["name"] for lookup in fetch["lookups"]], ["six"])
        with open(os.path.join(self.tmp, "plan", "requirements.txt")) as f:
            self.assertTrue(f.read().startswith("six==1.17.0 --hash=sha256:"))


@unittest.skipUnless(UV, "no uv (set PYFRONT_TEST_UV)")
class RealUvPathSourceTest(unittest.TestCase):
    """lockselect.py on a project, not a workspace, with uv path sources
    (one editable), locked by uv; one path source outside the context."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)
        self.context = os.path.join(self.tmp, "context")
        write(os.path.join(self.context, "pyproject.toml"),
              '[project]\nname = "app"\nversion = "0"\nrequires-python = ">=3.9"\n'
              'dependencies = ["acme-sdk-a", "acme-sdk-b"]\n[tool.uv]\npackage = false\n'
              '[tool.uv.sources]\nacme-sdk-a = { path = "libs/sdk-a", editable = true }\n'
              'acme-sdk-b = { path = "libs/sdk-b" }\n')
        for name in ("sdk-a", "sdk-b"):
            write(os.path.join(self.context, "libs", name, "pyproject.toml"), member_pyproject("acme-" + name))
        self.env = dict(os.environ, UV_CACHE_DIR=os.path.join(self.tmp, "cache"), UV_PYTHON_DOWNLOADS="never")

    def lock(self):
        subprocess.run([UV, "lock", "--offline", "--python", sys.executable], cwd=self.context, env=self.env,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def config(self):
        return config(cwd=self.context, out=os.path.join(self.tmp, "plan"),
                      members=os.path.join(self.tmp, "members"), package=None)

    def test_path_sources_are_copied(self):
        self.lock()
        proc = run_lockselect(self.tmp, self.config())
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("copied 2 local packages", proc.stdout)
        self.assertIn("the lock installs acme-sdk-a editable", proc.stdout)
        with open(os.path.join(self.tmp, "members", "members.txt")) as f:
            self.assertEqual(f.read(), "acme-sdk-a\nacme-sdk-b\n")

    def test_a_path_source_outside_the_context(self):
        outside = os.path.join(self.tmp, "sdk-c")
        write(os.path.join(outside, "pyproject.toml"), member_pyproject("acme-sdk-c"))
        path = os.path.join(self.context, "pyproject.toml")
        with open(path) as f:
            text = f.read().replace('"acme-sdk-b"]', '"acme-sdk-b", "acme-sdk-c"]')
        write(path, text + 'acme-sdk-c = { path = "../sdk-c" }\n')
        self.lock()
        proc = run_lockselect(self.tmp, self.config())
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("`acme-sdk-c` is a local package outside the build context (uv.lock: ", proc.stderr)
        self.assertIn("root of the build context", proc.stderr)


if __name__ == "__main__":
    unittest.main()
