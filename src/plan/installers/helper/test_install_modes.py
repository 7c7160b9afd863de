"""Tests of install_modes.py: each mode's argv and environment, and the
failure of an installer.

    python3 -m unittest discover -s src/plan/installers/helper -p 'test_*.py'
"""

import unittest

import install_modes
from install_credentials import Credential
from helper_test_support import MODES, testdata


def creds_for(config, values):
    """Credentials for the indexes of `config` that have them; `values` maps
    secret ids to secret values."""
    out = []
    for index in config["indexes"]:
        if index["password_secret"]:
            username = values[index["username_secret"]] if index["username_secret"] else index["username"]
            out.append(Credential(index, username, values[index["password_secret"]]))
    return out



class CommandTest(unittest.TestCase):
    SECRETS = {"pypi_token": "glpat/x+y", "art_user": "art bot", "art_token": "t@k", "nexus_user": "nx",
               "nexus_password": "n p"}

    def command(self, mode, **kwargs):
        config = testdata(mode)
        return install_modes.command(config, creds_for(config, self.SECRETS), **kwargs)

    def test_pip_requirements(self):
        argv, env = self.command("pip-requirements", pip=["python3", "-m", "pip"])
        self.assertEqual(
            argv,
            ["python3", "-m", "pip", "install", "-r", "/run/pyfront/context/requirements.txt",
             "-r", "/run/pyfront/context/requirements/extra.txt"],
        )
        self.assertEqual(
            env,
            {
                "PIP_NO_INPUT": "1",
                "PIP_DISABLE_PIP_VERSION_CHECK": "1",
                "PIP_PROGRESS_BAR": "off",
                "PIP_INDEX_URL": "https://gitlab-ci-token:glpat%2Fx%2By@gitlab.example.com/pypi/simple",
                "PIP_EXTRA_INDEX_URL": "https://art%20bot:t%40k@artifactory.example.com/simple "
                "http://mirror.internal:8080/simple",
                "PIP_TRUSTED_HOST": "mirror.internal",
            },
        )

    def test_pip_project(self):
        # The project builds offline, from the wheelhouse of its build
        # dependencies; no index, so no index URL in the environment.
        argv, env = self.command("pip-project", pip=["pip"], project_copy="/tmp/p/src")
        self.assertEqual(
            argv,
            ["pip", "install", "--no-index", "--find-links", "/run/pyfront/wheelhouse", "--no-deps", "--no-cache-dir", "/tmp/p/src"],
        )
        self.assertNotIn("PIP_INDEX_URL", env)
        self.assertNotIn("PIP_EXTRA_INDEX_URL", env)

    def test_pip_project_without_a_wheelhouse(self):
        config = testdata("pip-project")
        config["find_links"] = None
        argv, _ = install_modes.command(config, [], pip=["pip"], project_copy="/tmp/p/src")
        self.assertEqual(argv, ["pip", "install", "--no-deps", "--no-cache-dir", "/tmp/p/src"])

    def test_wheelhouse_install(self):
        config = testdata("wheelhouse-install")
        argv, env = install_modes.command(config, [])
        self.assertEqual(
            argv,
            ["/opt/pyfront-tools/bin/uv", "pip", "install", "--offline", "--no-index", "--find-links",
             "/run/pyfront/wheelhouse", "--require-hashes", "--no-deps", "--python", "/opt/venv/bin/python",
             "-r", "/run/pyfront/plan/requirements.txt"],
        )
        self.assertEqual(env, {"UV_LINK_MODE": "copy", "UV_NO_PROGRESS": "1", "UV_PYTHON_DOWNLOADS": "never", "UV_OFFLINE": "1"})
        config.update(installer="pip", tool=None)
        argv, env = install_modes.command(config, [], pip=["py", "-m", "pip", "--python", "/opt/venv/bin/python"])
        self.assertEqual(
            argv,
            ["py", "-m", "pip", "--python", "/opt/venv/bin/python", "install", "--no-index", "--find-links",
             "/run/pyfront/wheelhouse", "--require-hashes", "--no-deps", "--no-cache-dir",
             "-r", "/run/pyfront/plan/requirements.txt"],
        )

    def test_wheelhouse_install_failure_hints(self):
        config = testdata("wheelhouse-install")
        gcc = b"  error: command '/usr/bin/gcc' failed with exit code 1\n"
        failure = install_modes.installer_failed(config, 1, False, gcc)
        self.assertEqual(failure.message, "uv failed with exit code 1")
        self.assertIn("`[build] system-packages`", failure.hints[0])
        header = b"src/x.c:1:10: fatal error: Python.h: No such file or directory\n"
        self.assertIn("`[build] system-packages`", install_modes.installer_failed(config, 1, False, header).hints[0])
        missing = b"ERROR: No matching distribution found for cython>=3\n"
        config.update(installer="pip", tool=None)
        failure = install_modes.installer_failed(config, 1, False, missing)
        self.assertEqual(failure.message, "pip failed with exit code 1")
        self.assertIn("a build asked for `cython>=3`, which is not in the wheelhouse", failure.hints[0])
        uv_missing = b"  Caused by: No solution found when resolving: `setuptools>=40.8.0`\n"
        self.assertIn("`setuptools>=40.8.0`", install_modes.installer_failed(config, 1, False, uv_missing).hints[0])
        self.assertEqual(install_modes.installer_failed(config, 1, False, b"other\n").hints, [])

    def test_tool_provision(self):
        argv, env = self.command("tool-provision", pip=["py", "-m", "pip", "--python", "/opt/pyfront-tools/bin/python"])
        self.assertEqual(
            argv,
            ["py", "-m", "pip", "--python", "/opt/pyfront-tools/bin/python", "install", "--only-binary=:all:",
             "-r", "/run/pyfront/helper/tools.txt"],
        )
        self.assertEqual(env, {"PIP_NO_INPUT": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_PROGRESS_BAR": "off"})

    def test_secrets_never_reach_an_argv(self):
        for mode in MODES:
            with self.subTest(mode=mode):
                argv, _ = self.command(mode, pip=["pip"], project_copy="/tmp/p")
                for value in self.SECRETS.values():
                    self.assertFalse(any(value in arg for arg in argv), argv)

    def test_pip_python_option(self):
        cases = [
            (b"pip 22.3 from /usr/lib/python3/dist-packages/pip (python 3.11)\n", True),
            (b"pip 23.0.1 from x\n", True),
            (b"pip 22.2.2 from x\n", False),
            (b"pip 9.0.1 from x\n", False),
            (b"", False),
        ]
        for output, supported in cases:
            with self.subTest(output=output):
                self.assertEqual(install_modes.supports_python_option(output), supported)



class PipWheelhouseTest(unittest.TestCase):
    """pip requirement files, hermetically: download wheels only with the
    credentials in the environment, install offline without them."""

    def test_pip_download_is_wheels_only_with_credentials_in_env_only(self):
        config = testdata("pip-download")
        creds = creds_for(config, {"pypi_token": "glpat-s3cret"})
        argv, env = install_modes.command(config, creds, pip=["python3", "-m", "pip"])
        self.assertEqual(
            argv,
            ["python3", "-m", "pip", "download", "--only-binary=:all:", "--dest", "/var/lib/pyfront/wheelhouse",
             "-r", "/run/pyfront/context/requirements.txt"],
        )
        self.assertFalse(any("s3cret" in a for a in argv))
        self.assertIn("glpat-s3cret", env["PIP_INDEX_URL"])

    def test_wheelhouse_requirements_resolve_offline_without_credentials(self):
        # A local path requirement's install step still resolves again.
        config = testdata("wheelhouse-requirements")
        argv, env = install_modes.command(config, [], pip=["pip"])
        self.assertEqual(
            argv,
            ["pip", "install", "--no-index", "--find-links", "/run/pyfront/wheelhouse", "--no-cache-dir",
             "-r", "/run/pyfront/context/requirements.txt"],
        )
        self.assertFalse([k for k in env if "INDEX" in k])

    def test_pip_requirement_files_install_the_fetched_resolution_pinned(self):
        # wheelhouse-install with pip: the fetch step's requirements.txt,
        # --no-deps --require-hashes, offline, no credentials.
        config = dict(testdata("wheelhouse-install"), installer="pip", tool=None, members=None,
                      requirements="/run/pyfront/wheelhouse/requirements.txt")
        argv, env = install_modes.command(config, [], pip=["pip"])
        self.assertEqual(
            argv,
            ["pip", "install", "--no-index", "--find-links", "/run/pyfront/wheelhouse", "--require-hashes",
             "--no-deps", "--no-cache-dir", "-r", "/run/pyfront/wheelhouse/requirements.txt"],
        )
        self.assertFalse([k for k in env if "INDEX" in k])

    def test_the_no_wheel_hint_only_when_a_wheel_was_missing(self):
        config = dict(testdata("pip-download"), hints=["lock it"])
        missing = b"ERROR: No matching distribution found for docopt==0.6.2\n"
        self.assertEqual(install_modes.installer_failed(config, 1, False, missing).hints, ["lock it"])
        self.assertEqual(install_modes.installer_failed(config, 1, False, b"ERROR: boom\n").hints, [])

    def test_an_unreachable_index_gets_the_network_hint_not_the_wheel_one(self):
        config = dict(testdata("pip-download"), hints=["lock it"])
        refused = (
            b"WARNING: Retrying (Retry(total=4)) after connection broken by 'NewConnectionError("
            b"'<HTTPConnection object>: Failed to establish a new connection: [Errno 111] Connection refused')': /simple/six/\n"
            b"ERROR: Could not find a version that satisfies the requirement six==1.16.0 (from versions: none)\n"
            b"ERROR: No matching distribution found for six==1.16.0\n"
        )
        hints = install_modes.installer_failed(config, 1, False, refused).hints
        self.assertEqual(len(hints), 1)
        self.assertIn("--network=host", hints[0])

    def test_write_manifest_lists_every_file_with_its_sha256(self):
        import hashlib
        import json
        import os
        import tempfile

        from install_wheelhouse import check_wheelhouse, write_manifest

        with tempfile.TemporaryDirectory() as wh:
            with open(os.path.join(wh, "a-1.0-py3-none-any.whl"), "wb") as f:
                f.write(b"wheel")
            write_manifest(wh)
            with open(os.path.join(wh, "manifest.json")) as f:
                manifest = json.load(f)
            digest = hashlib.sha256(b"wheel").hexdigest()
            self.assertEqual(manifest["files"], {"a-1.0-py3-none-any.whl": digest})
            self.assertEqual(sorted(check_wheelhouse(wh)), ["a-1.0-py3-none-any.whl"])
            with open(os.path.join(wh, "requirements.txt")) as f:
                self.assertEqual(f.read(), "a==1.0 --hash=sha256:%s\n" % digest)
            # Written again (a retried step): the pinned file is no input.
            write_manifest(wh)
            self.assertEqual(sorted(check_wheelhouse(wh)), ["a-1.0-py3-none-any.whl"])

    def test_pinned_requirements_read_wheel_file_names(self):
        from install_failure import Failure
        from install_wheelhouse import pinned_requirements

        self.assertEqual(
            pinned_requirements({
                "zope.interface-7.1-cp311-cp311-manylinux_2_17_x86_64.whl": "cc",
                "acme_sdk_a-1.0.post1+local.2-1build-py3-none-any.whl": "aa",
                "Flask-3.0.3-py3-none-any.whl": "ff",
            }),
            "Flask==3.0.3 --hash=sha256:ff\n"
            "acme_sdk_a==1.0.post1+local.2 --hash=sha256:aa\n"
            "zope.interface==7.1 --hash=sha256:cc\n",
        )
        with self.assertRaises(Failure) as raised:
            pinned_requirements({"docopt-0.6.2.tar.gz": "dd"})
        self.assertIn("`docopt-0.6.2.tar.gz`", raised.exception.message)


class InstallerFailedTest(unittest.TestCase):
    def test_installer_failed(self):
        config = testdata("wheelhouse-install")
        config["hints"] = ["run `uv lock`"]
        failure = install_modes.installer_failed(config, 1, rejected=False)
        self.assertEqual(failure.message, "uv failed with exit code 1")
        self.assertEqual(failure.hints, ["run `uv lock`"])
        failure = install_modes.installer_failed(testdata("pip-requirements"), 2, rejected=True)
        self.assertEqual(failure.message, "pip failed with exit code 2")
        self.assertEqual(
            failure.hints,
            ["an index rejected the credentials (HTTP 401/403): check the token in secret "
             "`art_token`, `pypi_token`"],
        )

    def test_rejected_in(self):
        self.assertTrue(install_modes.rejected_in(b"HTTP error 401 while getting"))
        self.assertTrue(install_modes.rejected_in(b"status code 403 Forbidden"))
        self.assertFalse(install_modes.rejected_in(b"Collecting x==1.401"))



if __name__ == "__main__":
    unittest.main()
