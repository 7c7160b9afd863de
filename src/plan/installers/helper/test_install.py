"""Tests of install.py's pure parts; no installer, network or secret runs.

    python3 -m unittest discover -s src/plan/installers/helper -p 'test_*.py'

../testdata/<mode>.json are the configs config.rs's tests serialize, byte for
byte, so these tests read exactly what pyfront writes.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import install

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", "..", ".."))
MODES = ["pip-project", "pip-requirements", "poetry-install", "tool-provision", "uv-sync"]


def testdata(mode):
    with open(os.path.join(HERE, "..", "testdata", mode + ".json"), encoding="utf-8") as f:
        return json.load(f)


def creds_for(config, values):
    """Credentials for the indexes of `config` that have them; `values` maps
    secret ids to secret values."""
    out = []
    for index in config["indexes"]:
        if index["password_secret"]:
            username = values[index["username_secret"]] if index["username_secret"] else index["username"]
            out.append(install.Credential(index, username, values[index["password_secret"]]))
    return out


class EnvNameTest(unittest.TestCase):
    # (index name, uv's spelling, Poetry's spelling). uv: ASCII letters and
    # digits upper-cased, anything else `_`. Poetry: str.upper(), `-` and
    # `.` to `_`, anything else kept.
    TABLE = [
        ("private", "PRIVATE", "PRIVATE"),
        ("acme-private", "ACME_PRIVATE", "ACME_PRIVATE"),
        ("acme.private", "ACME_PRIVATE", "ACME_PRIVATE"),
        ("acme_private", "ACME_PRIVATE", "ACME_PRIVATE"),
        ("Corp-PyPI.v2", "CORP_PYPI_V2", "CORP_PYPI_V2"),
        ("123", "123", "123"),
        ("a..b", "A__B", "A__B"),
        ("a b", "A_B", "A B"),
        ("a+b", "A_B", "A+B"),
        ("café", "CAF_", "CAFÉ"),
        ("straße", "STRA_E", "STRASSE"),
        # Dotless i upper-cases to an ASCII I, which uv does not do.
        ("ıx", "_X", "IX"),
    ]

    def test_uv(self):
        for name, uv, _ in self.TABLE:
            with self.subTest(name=name):
                self.assertEqual(install.uv_env_name(name), uv)

    def test_poetry(self):
        for name, _, poetry in self.TABLE:
            with self.subTest(name=name):
                self.assertEqual(install.poetry_env_name(name), poetry)

    def test_credential_variables(self):
        index = {"name": "acme.private-2"}
        creds = [install.Credential(index, "bot", "s3cret")]
        self.assertEqual(
            install.uv_credential_env(creds),
            {"UV_INDEX_ACME_PRIVATE_2_USERNAME": "bot", "UV_INDEX_ACME_PRIVATE_2_PASSWORD": "s3cret"},
        )
        self.assertEqual(
            install.poetry_credential_env(creds),
            {
                "POETRY_HTTP_BASIC_ACME_PRIVATE_2_USERNAME": "bot",
                "POETRY_HTTP_BASIC_ACME_PRIVATE_2_PASSWORD": "s3cret",
            },
        )


class MaskTest(unittest.TestCase):
    def masker(self, *values, mask="****"):
        masker = install.Masker(mask)
        for value in values:
            masker.add(value)
        return masker

    def test_raw_and_url_quoted_values(self):
        masker = self.masker("glpat-s3cr/et+x y")
        cases = [
            (b"token glpat-s3cr/et+x y here", b"token **** here"),
            # quote(value, safe=""): `/` quoted too.
            (b"q=glpat-s3cr%2Fet%2Bx%20y&", b"q=****&"),
            # quote(value): urllib's default keeps `/`.
            (b"path /glpat-s3cr/et%2Bx%20y/", b"path /****/"),
            (b"twice glpat-s3cr/et+x y glpat-s3cr/et+x y", b"twice **** ****"),
            (b"unrelated line\n", b"unrelated line\n"),
        ]
        for line, masked in cases:
            with self.subTest(line=line):
                self.assertEqual(masker.bytes(line), masked)

    def test_a_value_inside_another_is_masked_whole(self):
        masker = self.masker("abc", "abcdef")
        self.assertEqual(masker.bytes(b"x abcdef y abc"), b"x **** y ****")

    def test_non_ascii_values(self):
        masker = self.masker("pässwörd")
        self.assertEqual(masker.bytes("a pässwörd b".encode()), b"a **** b")
        self.assertEqual(masker.bytes(b"a p%C3%A4ssw%C3%B6rd b"), b"a **** b")

    def test_userinfo(self):
        cases = [
            (b"https://user:hunter2@host/simple", b"https://user:****@host/simple"),
            (b"see https://glpat-TOKEN@gitlab.com/x.", b"see https://****@gitlab.com/x."),
            (b"http://u:p@a@host:8080/", b"http://u:****@host:8080/"),
            (b"a https://u:p@h/ b https://v:q@i/", b"a https://u:****@h/ b https://v:****@i/"),
            (b"'https://u:p@h'", b"'https://u:****@h'"),
            # Nothing to mask: no userinfo, an empty password, `@` after the host.
            (b"https://host/simple", b"https://host/simple"),
            (b"https://user:@host/", b"https://user:@host/"),
            (b"https://host/a@b", b"https://host/a@b"),
            (b"mail user@example.com", b"mail user@example.com"),
        ]
        masker = self.masker()
        for line, masked in cases:
            with self.subTest(line=line):
                self.assertEqual(masker.bytes(line), masked)

    def test_values_then_userinfo(self):
        masker = self.masker("p@ss:w/rd")
        self.assertEqual(
            masker.bytes(b"https://bot:p%40ss%3Aw%2Frd@host/ p@ss:w/rd"),
            b"https://bot:****@host/ ****",
        )

    def test_the_rules_mask_is_used(self):
        masker = self.masker("tok", mask="[masked]")
        self.assertEqual(masker.bytes(b"x tok https://u:p@h/"), b"x [masked] https://u:[masked]@h/")

    def test_the_shared_rules_file(self):
        masker, problem = install.load_masker(os.path.join(REPO, "src"))
        self.assertIsNone(problem)
        self.assertEqual(masker.mask, b"****")

    def test_unreadable_rules_fall_back_to_the_default_mask(self):
        cases = [
            (None, "No such file or directory"),
            ("{", "Expecting property name"),
            ('{"version": 2, "mask": "##"}', "not a version 1 rules object"),
            ('{"version": true, "mask": "##"}', "not a version 1 rules object"),
            ("[]", "not a version 1 rules object"),
            ('{"version": 1, "mask": ""}', "`mask` is not a non-empty string"),
            ('{"version": 1}', "`mask` is not a non-empty string"),
        ]
        for text, reason in cases:
            with self.subTest(text=text), tempfile.TemporaryDirectory() as tmp:
                if text is not None:
                    with open(os.path.join(tmp, "redact_rules.json"), "w") as f:
                        f.write(text)
                masker, problem = install.load_masker(tmp)
                self.assertEqual(masker.mask, b"****")
                self.assertIn(reason, problem)
                self.assertTrue(problem.endswith(": masking with `****`"), problem)
                masker.add("tok")
                self.assertEqual(masker.bytes(b"a tok b"), b"a **** b")

    def test_reports_are_masked(self):
        failure = install.Failure("no tok here", ["see https://u:tok2@h/"])
        self.assertEqual(
            install.report(failure, self.masker("tok")),
            "pyfront: error: no **** here\npyfront: hint: see https://u:****@h/\n",
        )


class CommandTest(unittest.TestCase):
    SECRETS = {"pypi_token": "glpat/x+y", "art_user": "art bot", "art_token": "t@k", "nexus_user": "nx",
               "nexus_password": "n p"}

    def command(self, mode, **kwargs):
        config = testdata(mode)
        return install.command(config, creds_for(config, self.SECRETS), **kwargs)

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
        argv, env = self.command("pip-project", pip=["pip"], project_copy="/tmp/p/src")
        self.assertEqual(argv, ["pip", "install", "--no-deps", "--no-cache-dir", "/tmp/p/src"])
        self.assertEqual(env["PIP_EXTRA_INDEX_URL"], "https://ci:glpat%2Fx%2By@pypi.corp.example/simple")
        self.assertNotIn("PIP_INDEX_URL", env)

    def test_tool_provision(self):
        argv, env = self.command("tool-provision", pip=["py", "-m", "pip", "--python", "/opt/pyfront-tools/bin/python"])
        self.assertEqual(
            argv,
            ["py", "-m", "pip", "--python", "/opt/pyfront-tools/bin/python", "install",
             "-r", "/run/pyfront/helper/tools.txt"],
        )
        self.assertEqual(env, {"PIP_NO_INPUT": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_PROGRESS_BAR": "off"})

    def test_uv_sync(self):
        argv, env = self.command("uv-sync")
        self.assertEqual(
            argv,
            ["/opt/pyfront-tools/bin/uv", "sync", "--locked", "--no-install-project", "--no-editable",
             "--no-default-groups", "--group", "ml", "--extra", "s3"],
        )
        self.assertEqual(
            env,
            {
                "UV_INDEX_ACME_PRIVATE_USERNAME": "gitlab-ci-token",
                "UV_INDEX_ACME_PRIVATE_PASSWORD": "glpat/x+y",
                "UV_PROJECT_ENVIRONMENT": "/opt/venv",
                "UV_PYTHON_DOWNLOADS": "never",
                "UV_LINK_MODE": "copy",
                "UV_NO_PROGRESS": "1",
                "UV_CACHE_DIR": "/root/.cache/uv",
            },
        )

    def test_uv_groups_without_main(self):
        config = testdata("uv-sync")
        config["groups"] = ["dev", "ml"]
        config["extras"] = []
        self.assertEqual(
            install.uv_argv(config)[5:],
            ["--only-group", "dev", "--only-group", "ml"],
        )

    def test_poetry_install(self):
        argv, env = self.command("poetry-install")
        self.assertEqual(
            argv,
            ["/opt/pyfront-tools/bin/poetry", "install", "--no-root", "--no-interaction", "--no-ansi",
             "--only", "main,ml", "--extras", "s3"],
        )
        self.assertEqual(
            env,
            {
                "POETRY_HTTP_BASIC_ACME_PRIVATE_USERNAME": "nx",
                "POETRY_HTTP_BASIC_ACME_PRIVATE_PASSWORD": "n p",
                "POETRY_VIRTUALENVS_CREATE": "false",
                "POETRY_KEYRING_ENABLED": "false",
                "POETRY_NO_INTERACTION": "1",
                "POETRY_CACHE_DIR": "/root/.cache/pypoetry",
                "VIRTUAL_ENV": "/opt/venv",
            },
        )

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
                self.assertEqual(install.supports_python_option(output), supported)


class ConfigTest(unittest.TestCase):
    def error(self, config):
        with self.assertRaises(install.ConfigError) as caught:
            install.validate_config(config)
        return str(caught.exception)

    def test_every_mode_of_config_rs_is_valid(self):
        self.assertEqual(sorted(install.MODES), MODES)
        for mode in MODES:
            with self.subTest(mode=mode):
                install.validate_config(testdata(mode))

    def test_the_golden_cases_configs_are_valid(self):
        # What pyfront really writes for tests/cases/*: install.json files
        # inside the golden LLB.
        cases = os.path.join(REPO, "tests", "cases")
        seen = set()
        for case in sorted(os.listdir(cases)):
            with open(os.path.join(cases, case, "llb.json"), encoding="utf-8") as f:
                llb = json.load(f)
            for op in llb["ops"]:
                for action in op.get("op", {}).get("file", []):
                    mkfile = action.get("action", {}).get("mkfile")
                    if mkfile and mkfile["path"] == "/install.json":
                        config = json.loads(mkfile["data"])
                        with self.subTest(case=case, mode=config.get("mode")):
                            install.validate_config(config)
                        seen.add(config["mode"])
        self.assertEqual(sorted(seen), MODES)

    def test_errors(self):
        def changed(base, **changes):
            config = testdata(base)
            for key, value in changes.items():
                if value is DELETE:
                    del config[key]
                else:
                    config[key] = value
            return config

        def index_changed(**changes):
            config = testdata("pip-requirements")
            config["indexes"][0].update(changes)
            return config

        def index_deleted(key):
            config = testdata("pip-requirements")
            del config["indexes"][1][key]
            return config

        duplicate = testdata("pip-requirements")
        duplicate["indexes"][2]["name"] = "corp"

        cases = [
            ([], "the config must be an object, not a list"),
            (changed("uv-sync", version=DELETE), "missing key `version` (this install.py reads version 1)"),
            (changed("uv-sync", version="1"), '`version` must be an integer, not "1"'),
            (changed("uv-sync", version=True), "`version` must be an integer, not true"),
            (changed("uv-sync", version=2), "config version 2 is not supported (this install.py reads version 1)"),
            (changed("uv-sync", mode=DELETE), "missing key `mode`"),
            (changed("uv-sync", mode=None), "`mode` must be a string, not null"),
            (
                changed("uv-sync", mode="uv"),
                "unknown mode `uv` (known: `pip-project`, `pip-requirements`, `poetry-install`, "
                "`tool-provision`, `uv-sync`)",
            ),
            (changed("uv-sync", create_venv=False), "unknown key `create_venv` in mode `uv-sync`"),
            (changed("pip-project", cwd="/run/pyfront/context"), "unknown key `cwd` in mode `pip-project`"),
            (changed("uv-sync", tool=DELETE), "missing key `tool` in mode `uv-sync`"),
            (changed("pip-requirements", indexes=DELETE), "missing key `indexes` in mode `pip-requirements`"),
            (changed("uv-sync", venv="opt/venv"), '`venv` must be an absolute path, not "opt/venv"'),
            (changed("uv-sync", cache_dir=None), "`cache_dir` must be an absolute path, not null"),
            (changed("uv-sync", groups="main"), '`groups` must be a list, not "main"'),
            (changed("uv-sync", extras=["s3", 3]), "`extras[1]` must be a string, not 3"),
            (changed("poetry-install", hints=[None]), "`hints[0]` must be a string, not null"),
            (changed("tool-provision", requirements=["tools.txt"]),
             '`requirements[0]` must be an absolute path, not "tools.txt"'),
            (changed("pip-project", project={"path": "/"}), "`project` must be an absolute path, not an object"),
            (changed("uv-sync", indexes={}), "`indexes` must be a list, not an object"),
            (changed("uv-sync", indexes=["private"]), '`indexes[0]` must be an object, not "private"'),
            (index_changed(priority=1), "unknown key `priority` in `indexes[0]`"),
            (index_deleted("default"), "missing key `default` in `indexes[1]`"),
            (index_changed(name="-corp"),
             '`indexes[0].name` must be a name (a letter or digit, then letters, digits, `_`, `-`, `.`), '
             'not "-corp"'),
            (index_changed(url="ftp://host/simple"),
             '`indexes[0].url` must be an http(s) URL without credentials, not "ftp://host/simple"'),
            (index_changed(url="https://u:p@host/simple"),
             '`indexes[0].url` must be an http(s) URL without credentials, not "https://u:p@host/simple"'),
            (index_changed(username=7), "`indexes[0].username` must be null or a string, not 7"),
            (index_changed(password_secret="../etc/passwd"),
             "`indexes[0].password_secret` must be null or a secret id (a letter or digit, then letters, "
             'digits, `_`, `-`, `.`), not "../etc/passwd"'),
            (index_changed(default="yes"), '`indexes[0].default` must be true or false, not "yes"'),
            (index_changed(username_secret="u"), "`indexes[0]` has both `username` and `username_secret`"),
            (index_changed(password_secret=None), "`indexes[0]` has a username but no `password_secret`"),
            (index_changed(username=None),
             "`indexes[0]` has `password_secret` but no `username` or `username_secret`"),
            (duplicate, "`indexes[2].name` repeats the index name `corp`"),
            (changed("uv-sync", venv="x" * 70), '`venv` must be an absolute path, not "' + "x" * 56 + "..."),
        ]
        for config, message in cases:
            with self.subTest(message=message):
                self.assertEqual(self.error(config), message)

    def test_parse_config_names_the_file(self):
        cases = [
            ("{", "install.json is not valid JSON: Expecting property name enclosed in double quotes: "
                  "line 1 column 2 (char 1)"),
            ('{"version": 1, "mode": "pip"}', "install.json: unknown mode `pip` (known: `pip-project`, "
                                             "`pip-requirements`, `poetry-install`, `tool-provision`, `uv-sync`)"),
        ]
        for text, message in cases:
            with self.subTest(text=text):
                with self.assertRaises(install.Failure) as caught:
                    install.parse_config(text, "install.json")
                self.assertEqual(caught.exception.message, message)
                self.assertEqual(caught.exception.hints, [install.CONFIG_HINT])

    def test_validation_does_not_change_the_config(self):
        config = testdata("pip-requirements")
        before = copy.deepcopy(config)
        install.validate_config(config)
        self.assertEqual(config, before)


DELETE = object()


class HintTest(unittest.TestCase):
    def test_installer_failed(self):
        config = testdata("uv-sync")
        failure = install.installer_failed(config, 1, rejected=False)
        self.assertEqual(failure.message, "uv failed with exit code 1")
        self.assertEqual(failure.hints, ["run `uv lock`"])
        failure = install.installer_failed(testdata("pip-requirements"), 2, rejected=True)
        self.assertEqual(failure.message, "pip failed with exit code 2")
        self.assertEqual(
            failure.hints,
            ["an index rejected the credentials (HTTP 401/403): check the token in secret "
             "`art_token`, `pypi_token`"],
        )
        self.assertEqual(
            install.installer_failed(testdata("poetry-install"), 1, rejected=False).message,
            "poetry failed with exit code 1",
        )

    def test_rejected_in(self):
        self.assertTrue(install.rejected_in(b"HTTP error 401 while getting"))
        self.assertTrue(install.rejected_in(b"status code 403 Forbidden"))
        self.assertFalse(install.rejected_in(b"Collecting x==1.401"))

    def test_credentials_rejected(self):
        plain, secret, _ = testdata("pip-requirements")["indexes"]
        failure = install.credentials_rejected(plain, 401, "Unauthorized")
        self.assertEqual(
            failure.message,
            "index `corp` (https://gitlab.example.com/pypi/simple) rejected the credentials: HTTP 401 Unauthorized",
        )
        self.assertEqual(
            failure.hints,
            ["check the token passed as secret `pypi_token` and that user `gitlab-ci-token` may read this index"],
        )
        # A username from a secret is named by its id, never shown.
        failure = install.credentials_rejected(secret, 403, "Forbidden")
        self.assertEqual(
            failure.hints,
            ["check the token passed as secret `art_user`, `art_token` and that the user in secret "
             "`art_user` may read this index"],
        )

    def test_secrets(self):
        self.assertEqual(install.secret_text(b" tok\n", "t", "corp", "password"), "tok")
        for raw, message in [
            (b"\n", "secret `t` (password of index `corp`) is empty"),
            (b"\xff", "secret `t` (password of index `corp`) is not UTF-8 text"),
        ]:
            with self.subTest(raw=raw), self.assertRaises(install.Failure) as caught:
                install.secret_text(raw, "t", "corp", "password")
            self.assertEqual(caught.exception.message, message)
        failure = install.missing_secret("pypi_token", "corp", "password")
        self.assertEqual(failure.message, "secret `pypi_token` (password of index `corp`) was not given to the build")
        self.assertEqual(
            failure.hints,
            ["add `--secret id=pypi_token,env=VARIABLE` (the variable holding the token) "
             "or `--secret id=pypi_token,src=FILE` to `docker build`"],
        )

    def test_basic_auth(self):
        self.assertEqual(install.basic_auth("gitlab-ci-token", "t@k"), "Basic Z2l0bGFiLWNpLXRva2VuOnRAaw==")


class ProgramTest(unittest.TestCase):
    """The program as a process: a bad config stops it with exit code 2
    before anything runs."""

    def run_program(self, *args, rules=True):
        """Runs install.py as the step does: with redact_rules.json next to
        it (`rules`), and `args`; each arg is a file's text."""
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copy(os.path.join(HERE, "install.py"), tmp)
            if rules:
                shutil.copy(os.path.join(REPO, "src", "redact_rules.json"), tmp)
            paths = []
            for i, text in enumerate(args):
                paths.append(os.path.join(tmp, "install.json" if i == 0 else "extra%d" % i))
                with open(paths[-1], "w", encoding="utf-8") as f:
                    f.write(text)
            return subprocess.run(
                [sys.executable, os.path.join(tmp, "install.py")] + paths,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                universal_newlines=True,
            )

    def test_bad_config(self):
        config = testdata("uv-sync")
        config["groups"] = "main"
        proc = self.run_program(json.dumps(config))
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(proc.stdout, "")
        self.assertEqual(
            proc.stderr,
            'pyfront: error: install.json: `groups` must be a list, not "main"\n'
            "pyfront: hint: " + install.CONFIG_HINT + "\n",
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


if __name__ == "__main__":
    unittest.main()
