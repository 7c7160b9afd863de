#!/usr/bin/env python3
"""Runs the docker/build-push-action step of a GitHub workflow the way the action does.

    gha-build.py WORKFLOW SECRETS_DIR   (prints a NUL-separated argv for `docker`)

The action turns its inputs into one `docker buildx build` command: `file`, each line of
`build-args`, each `id=value` line of `secrets` (written to a file, passed as
`--secret id=ID,src=FILE`), `cache-from`, `cache-to`, `tags`, `push`, `context`.
`${{ scope.name }}` expressions are taken from the environment as GHA_<SCOPE>_<NAME>
(GHA_VARS_IMAGE, GHA_SECRETS_ARTIFACTORY_TOKEN, GHA_GITHUB_SHA, ...); a missing one is an
error, so the test sees every input the workflow uses. Secret values only go into files
(mode 0600) in SECRETS_DIR, never into the argv. Inputs pyfront's examples do not use are
refused rather than ignored.
"""
import os
import re
import sys

import yaml

EXPR = re.compile(r"\$\{\{\s*([a-z]+)\.([A-Za-z0-9_]+)\s*\}\}")
KNOWN = {"context", "file", "build-args", "secrets", "cache-from", "cache-to", "tags", "push"}


def expand(text: str) -> str:
    def value(m: re.Match) -> str:
        name = f"GHA_{m.group(1).upper()}_{m.group(2).upper()}"
        if name not in os.environ:
            raise SystemExit(f"gha-build.py: the workflow uses {m.group(0)}; set {name}")
        return os.environ[name]

    return EXPR.sub(value, text)


def lines(text) -> list:
    return [l.strip() for l in str(text or "").splitlines() if l.strip()]


def main() -> int:
    workflow, secrets_dir = sys.argv[1], sys.argv[2]
    with open(workflow, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    steps = [s for job in doc["jobs"].values() for s in job["steps"]
             if str(s.get("uses", "")).startswith("docker/build-push-action@")]
    if len(steps) != 1:
        raise SystemExit(f"gha-build.py: expected one build-push-action step, found {len(steps)}")
    inputs = steps[0].get("with") or {}
    unknown = set(inputs) - KNOWN
    if unknown:
        raise SystemExit(f"gha-build.py: inputs not emulated: {sorted(unknown)}")
    argv = ["buildx", "build", "--file", expand(inputs.get("file", "Dockerfile"))]
    for arg in lines(inputs.get("build-args")):
        argv += ["--build-arg", expand(arg)]
    for n, line in enumerate(lines(inputs.get("secrets"))):
        ident, _, raw = line.partition("=")
        path = os.path.join(secrets_dir, f"secret-{n}")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(expand(raw))
        argv += ["--secret", f"id={ident},src={path}"]
    for key in ("cache-from", "cache-to"):
        for line in lines(inputs.get(key)):
            argv += [f"--{key}", expand(line)]
    for tag in lines(inputs.get("tags")):
        argv += ["--tag", expand(tag)]
    if str(inputs.get("push", "false")).lower() == "true":
        argv.append("--push")
    argv.append(expand(inputs.get("context", ".")))
    sys.stdout.write("\0".join(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
