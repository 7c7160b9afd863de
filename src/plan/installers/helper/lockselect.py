"""pyfront's select step: the hermetic install's first step (issue 12).

    python3 -I lockselect.py CONFIG

Runs with no network and no secrets. It reads the lock (uv: through `uv
export`; Poetry: poetry.lock itself) and the project's pyproject.toml from
the read-only context, checks the lock is fresh, evaluates the markers on
this interpreter and picks each package's one file (the best wheel for it,
else the sdist). It writes into the config's `out`:

- fetch.json, the fetch step's config (fetch_config.py): exactly the
  chosen files, the indexes, and the project's build requirements;
- requirements.txt, `name==version --hash=sha256:...` per package, which
  the offline install step installs with `--no-deps --require-hashes`;
- pylock.toml (uv only), uv's export, for a human reading the plan.

With the config's `members` set (a uv workspace or path sources, Poetry
path dependencies) it also copies the local packages the selection needs
into `members` (lockselect_members.py).

The config's format is lockselect_config.py's. Named lockselect, not
select: a `select.py` next to the modules would shadow the standard
library's `select` for every module here. Standard library only, plus the
packaging modules the builder's pip vendors (pyfront_wheels.py), Python 3.9
or later. Everything printed goes through the masker (pyfront_redact.py).
Exit status: 0 done, 2 a failure with a message, 1 a bug of ours.
"""

import os
import sys

# A script's own directory is sys.path[0], except under `python3 -I`
# (Python 3.11+): put it there then too, and nothing else.
HERE = os.path.dirname(os.path.realpath(__file__))
if sys.path[:1] != [HERE]:
    sys.path.insert(0, HERE)

from install_failure import Failure, run_step  # noqa: E402
from lockselect_config import parse_config  # noqa: E402
from lockselect_members import write_members  # noqa: E402
from lockselect_plan import project_build_requirements, write_plan  # noqa: E402
from lockselect_poetry import poetry_packages  # noqa: E402
from lockselect_uv import uv_packages  # noqa: E402
from pyfront_wheels import tag_ranks  # noqa: E402


def run(argv, masker):
    if len(argv) != 1:
        raise Failure("usage: lockselect.py CONFIG")
    try:
        with open(argv[0], "rb") as f:
            text = f.read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise Failure("cannot read the config %s: %s" % (argv[0], e))
    config = parse_config(text, os.path.basename(argv[0]))
    ranks = tag_ranks()
    if config["mode"] == "uv":
        chosen, members = uv_packages(config, masker, ranks)
    else:
        chosen, members = poetry_packages(config, ranks)
    build = project_build_requirements(config["cwd"]) if config["project"] else []
    if config["members"]:
        build += write_members(members, config["members"])
    write_plan(config, chosen, build)
    sdists = sum(1 for c in chosen if not c.filename.endswith(".whl"))
    sys.stdout.write(masker.text(
        "pyfront: selected %d file%s for this interpreter (%d wheel%s, %d sdist%s) into %s\n"
        % (len(chosen), "" if len(chosen) == 1 else "s", len(chosen) - sdists,
           "" if len(chosen) - sdists == 1 else "s", sdists, "" if sdists == 1 else "s", config["out"])
    ))
    if config["members"]:
        sys.stdout.write(masker.text("pyfront: copied %d local package%s into %s: %s\n" % (
            len(members), "" if len(members) == 1 else "s", config["members"],
            ", ".join(sorted(m.name for m in members)) or "none")))
    editable = sorted(m.name for m in members if m.editable)
    if config["members"] and editable:
        sys.stdout.write(masker.text(
            "pyfront: the lock installs %s editable (`develop = true` / `editable = true`): the image "
            "gets a regular, non-editable install, built from the sources in the build context\n"
            % ", ".join(editable)))


def main(argv=None, rules_dir=HERE):
    """Runs the step for `argv` (default: this process's arguments) and
    returns the exit status; `rules_dir` holds redact_rules.json."""
    return run_step(run, sys.argv[1:] if argv is None else argv, rules_dir)


if __name__ == "__main__":
    sys.exit(main())
