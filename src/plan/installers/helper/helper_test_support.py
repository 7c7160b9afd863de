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
MODES = [
    "pip-download",
    "pip-project",
    "pip-requirements",
    "tool-provision",
    "wheelhouse-install",
    "wheelhouse-requirements",
]
# The modes the golden cases (tests/cases/*/llb.json) write: all of them
# (the one-step pip install: `pip-build-code-opt-in`).
GOLDEN_MODES = MODES


def testdata(mode):
    """The config of `mode` as config.rs's tests write it, byte for byte
    (src/plan/installers/testdata/<mode>.json)."""
    with open(os.path.join(HERE, "..", "testdata", mode + ".json"), encoding="utf-8") as f:
        return json.load(f)


def helper_imports(source):
    """The helper modules `source` imports at top level: `import x` and
    `from x import ...` lines that name a file here (the rule
    src/plan/installers/mod.rs's `helper_modules_are_complete` applies)."""
    found = set()
    for line in source.splitlines():
        for prefix in ("from ", "import "):
            if line.startswith(prefix):
                module = re.split(r"[ ,.]", line[len(prefix):], maxsplit=1)[0]
                if os.path.isfile(os.path.join(HERE, module + ".py")):
                    found.add(module + ".py")
    return found


def program_modules(program):
    """`program` and every helper module it imports, directly or not: what
    its step must mount (the Rust side lists the same files; its test
    checks its list against these imports). Entry first, then sorted."""
    reached, todo = {program}, [program]
    while todo:
        with open(os.path.join(HERE, todo.pop()), encoding="utf-8") as f:
            for name in helper_imports(f.read()) - reached:
                reached.add(name)
                todo.append(name)
    return [program] + sorted(reached - {program})


def install_modules():
    return program_modules("install.py")


def fetch_modules():
    return program_modules("fetch.py")


def lockselect_modules():
    return program_modules("lockselect.py")


def mount_helper(directory, modules, rules=True):
    """Lays `directory` out as the step's helper mount: `modules` and, with
    `rules`, redact_rules.json."""
    for name in modules:
        shutil.copy(os.path.join(HERE, name), directory)
    if rules:
        shutil.copy(RULES, directory)
