"""What the helper programs' tests share: where things are, the configs
pyfront writes, and a helper directory laid out as the build mounts it.

Not a test module itself (unittest discovers test_*.py only).
"""

import json
import os
import re
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", "..", ".."))
# redact_rules.json lives with the frontend's policy; the build mounts it
# next to the helper modules.
RULES_DIR = os.path.join(REPO, "src")
RULES = os.path.join(RULES_DIR, "redact_rules.json")
MODES = ["pip-project", "pip-requirements", "poetry-install", "tool-provision", "uv-sync", "wheelhouse-install"]
# The modes pyfront wrote before the hermetic install (issue 12); the golden
# cases hold only these until the Rust side writes wheelhouse-install.
GOLDEN_MODES = MODES[:5]


def testdata(mode):
    """The config of `mode` as config.rs's tests write it, byte for byte
    (src/plan/installers/testdata/<mode>.json)."""
    with open(os.path.join(HERE, "..", "testdata", mode + ".json"), encoding="utf-8") as f:
        return json.load(f)


def install_modules():
    """The file names src/plan/installers/mod.rs mounts for install.py, in
    its order: what the step really gets."""
    with open(os.path.join(HERE, "..", "mod.rs"), encoding="utf-8") as f:
        source = f.read()
    listed = re.search(r"const HELPER_MODULES: [^=]*= helper_modules!\[([^\]]*)\]", source)
    return re.findall(r'"([a-z_]+\.py)"', listed.group(1))


def fetch_modules():
    """fetch.py and the modules it may import: fetch_*.py and pyfront_*.py
    (the fetch step is not wired into the Rust side yet, so no list names
    them)."""
    return sorted(
        name
        for name in os.listdir(HERE)
        if name == "fetch.py"
        or (name.startswith(("fetch_", "pyfront_")) and name.endswith(".py") and not name.endswith("_test_support.py"))
    )


def mount_helper(directory, modules, rules=True):
    """Lays `directory` out as the step's helper mount: `modules` and, with
    `rules`, redact_rules.json."""
    for name in modules:
        shutil.copy(os.path.join(HERE, name), directory)
    if rules:
        shutil.copy(RULES, directory)
