"""Tests of install_config.py: the configs pyfront writes are valid, and
every other config is refused with a message that names the key.

    python3 -m unittest discover -s src/plan/installers/helper -p 'test_*.py'
"""

import copy
import json
import os
import unittest

import install_config
from helper_test_support import GOLDEN_MODES, MODES, REPO, testdata


class ConfigTest(unittest.TestCase):
    def error(self, config):
        with self.assertRaises(install_config.ConfigError) as caught:
            install_config.validate_config(config)
        return str(caught.exception)

    def test_every_mode_of_config_rs_is_valid(self):
        self.assertEqual(sorted(install_config.MODES), MODES)
        for mode in MODES:
            with self.subTest(mode=mode):
                install_config.validate_config(testdata(mode))

    def test_the_golden_cases_configs_are_valid(self):
        # What pyfront really writes for tests/cases/*: install.json (and
        # the tools step's provision.json) files inside the golden LLB.
        cases = os.path.join(REPO, "tests", "cases")
        seen = set()
        for case in sorted(os.listdir(cases)):
            with open(os.path.join(cases, case, "llb.json"), encoding="utf-8") as f:
                llb = json.load(f)
            for op in llb["ops"]:
                for action in op.get("op", {}).get("file", []):
                    mkfile = action.get("action", {}).get("mkfile")
                    if mkfile and mkfile["path"] in ("/install.json", "/provision.json"):
                        config = json.loads(mkfile["data"])
                        with self.subTest(case=case, mode=config.get("mode")):
                            install_config.validate_config(config)
                        seen.add(config["mode"])
        self.assertEqual(sorted(seen), GOLDEN_MODES)

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
            (changed("wheelhouse-install", installer="poetry"), '`installer` must be `uv` or `pip`, not "poetry"'),
            (changed("wheelhouse-install", tool=None),
             "`tool` must be uv's path with installer `uv`, and null with `pip`"),
            (changed("wheelhouse-install", installer="pip"),
             "`tool` must be uv's path with installer `uv`, and null with `pip`"),
            (changed("wheelhouse-install", requirements=["/r.txt"]), "`requirements` must be an absolute path, not a list"),
            (changed("wheelhouse-install", cache_dir="/c"), "unknown key `cache_dir` in mode `wheelhouse-install`"),
            (changed("pip-project", find_links="wheelhouse"), '`find_links` must be null or an absolute path, not "wheelhouse"'),
            (changed("pip-project", find_links=DELETE), "missing key `find_links` in mode `pip-project`"),
            (changed("pip-requirements", find_links=None), "unknown key `find_links` in mode `pip-requirements`"),
            ([], "the config must be an object, not a list"),
            (changed("wheelhouse-install", version=DELETE), "missing key `version` (this install.py reads version 1)"),
            (changed("wheelhouse-install", version="1"), '`version` must be an integer, not "1"'),
            (changed("wheelhouse-install", version=True), "`version` must be an integer, not true"),
            (changed("wheelhouse-install", version=2), "config version 2 is not supported (this install.py reads version 1)"),
            (changed("wheelhouse-install", mode=DELETE), "missing key `mode`"),
            (changed("wheelhouse-install", mode=None), "`mode` must be a string, not null"),
            (
                changed("wheelhouse-install", mode="uv"),
                "unknown mode `uv` (known: `pip-download`, `pip-project`, `pip-requirements`, `tool-provision`, "
                "`wheelhouse-install`, `wheelhouse-requirements`)",
            ),
            (changed("wheelhouse-install", create_venv=False), "unknown key `create_venv` in mode `wheelhouse-install`"),
            (changed("pip-project", cwd="/run/pyfront/context"), "unknown key `cwd` in mode `pip-project`"),
            (changed("wheelhouse-install", tool=DELETE), "missing key `tool` in mode `wheelhouse-install`"),
            (changed("pip-requirements", indexes=DELETE), "missing key `indexes` in mode `pip-requirements`"),
            (changed("wheelhouse-install", venv="opt/venv"), '`venv` must be an absolute path, not "opt/venv"'),
            (changed("wheelhouse-install", wheelhouse=None), "`wheelhouse` must be an absolute path, not null"),
            (changed("tool-provision", requirements="/tools.txt"), '`requirements` must be a list, not "/tools.txt"'),
            (changed("wheelhouse-install", hints=["s3", 3]), "`hints[1]` must be a string, not 3"),
            (changed("wheelhouse-install", hints=[None]), "`hints[0]` must be a string, not null"),
            (changed("tool-provision", requirements=["tools.txt"]),
             '`requirements[0]` must be an absolute path, not "tools.txt"'),
            (changed("pip-project", project={"path": "/"}), "`project` must be an absolute path, not an object"),
            (changed("wheelhouse-install", indexes={}), "`indexes` must be a list, not an object"),
            (changed("wheelhouse-install", indexes=["private"]), '`indexes[0]` must be an object, not "private"'),
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
            (changed("wheelhouse-install", venv="x" * 70), '`venv` must be an absolute path, not "' + "x" * 56 + "..."),
        ]
        for config, message in cases:
            with self.subTest(message=message):
                self.assertEqual(self.error(config), message)

    def test_parse_config_names_the_file(self):
        cases = [
            ("{", "install.json is not valid JSON: Expecting property name enclosed in double quotes: "
                  "line 1 column 2 (char 1)"),
            ('{"version": 1, "mode": "pip"}', "install.json: unknown mode `pip` (known: `pip-download`, `pip-project`, "
                                             "`pip-requirements`, `tool-provision`, `wheelhouse-install`, `wheelhouse-requirements`)"),
        ]
        for text, message in cases:
            with self.subTest(text=text):
                with self.assertRaises(install_config.Failure) as caught:
                    install_config.parse_config(text, "install.json")
                self.assertEqual(caught.exception.message, message)
                self.assertEqual(caught.exception.hints, [install_config.CONFIG_HINT])

    def test_null_alternatives_are_valid(self):
        install_config.validate_config(dict(testdata("pip-project"), find_links=None))
        install_config.validate_config(dict(testdata("wheelhouse-install"), installer="pip", tool=None))
        install_config.validate_config(dict(testdata("wheelhouse-install"), members=None))

    def test_validation_does_not_change_the_config(self):
        config = testdata("pip-requirements")
        before = copy.deepcopy(config)
        install_config.validate_config(config)
        self.assertEqual(config, before)


DELETE = object()


if __name__ == "__main__":
    unittest.main()
