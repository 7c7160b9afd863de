#!/usr/bin/env python3
"""Turns one job of a .gitlab-ci.yml into the bash script a GitLab runner would run.

    gitlab-job.py FILE JOB  > job.sh

The script sets the job's `variables` (top-level ones first) only where the
environment does not already set them, the way project CI/CD variables override the
defaults in the file, then runs `before_script` and `script`, stopping at the first
failing command. Only what pyfront's examples use is supported: plain string
variables, `before_script`, `script`.
"""
import sys

import yaml


def quote_for_expansion(value: str) -> str:
    # The value goes inside "..." so that ${OTHER} expands as GitLab expands it;
    # anything else that bash would interpret inside double quotes is escaped.
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`")


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: gitlab-job.py FILE JOB", file=sys.stderr)
        return 2
    path, job_name = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    job = doc.get(job_name)
    if not isinstance(job, dict):
        print(f"{path}: no job `{job_name}`", file=sys.stderr)
        return 1
    variables = dict(doc.get("variables") or {})
    variables.update(job.get("variables") or {})
    lines = ["set -euo pipefail"]
    for name, value in variables.items():
        if not name.isidentifier():
            print(f"{path}: odd variable name {name!r}", file=sys.stderr)
            return 1
        lines.append(f': "${{{name}={quote_for_expansion(str(value))}}}"; export {name}')
    commands = list(job.get("before_script") or []) + list(job.get("script") or [])
    if not commands:
        print(f"{path}: job `{job_name}` has no script", file=sys.stderr)
        return 1
    for command in commands:
        lines.append(f"printf '$ %s\\n' {shell_quote(command)}")
        lines.append(command)
    print("\n".join(lines))
    return 0


def shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


if __name__ == "__main__":
    sys.exit(main())
