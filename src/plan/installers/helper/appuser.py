"""Creates the app's user in the runtime image when the base lacks it.

pyfront runs this in the app stage, before the venv is copied, when
``[app] user`` is a name, with no secret and no network:

    python3 -I appuser.py NAME UID GID

If ``/etc/passwd`` already has NAME, it changes nothing: the base's user is
used as it is. Otherwise it appends the group ``NAME:x:GID:`` (unless a
group NAME with that gid exists) and the user
``NAME:x:UID:GID::/home/NAME:/usr/sbin/nologin``, a locked entry to
``/etc/shadow`` and ``/etc/gshadow`` when the base has them, and creates
``/home/NAME`` (mode 0755, owned by UID:GID). The entries are written
directly (no ``useradd``, no shell), so it works on any base with a Python
and gives the same files in every build.

It refuses, before writing anything, a UID or GID that the base already
gives to another user or group, and a group NAME with another gid. Exit 0
when the user exists or was created, 1 on such a collision, 2 on bad
arguments.
"""

from __future__ import annotations

import os
import sys

EXIT_OK, EXIT_COLLISION, EXIT_USAGE = 0, 1, 2

SHELL = "/usr/sbin/nologin"


class Collision(Exception):
    """The base already uses the uid, the gid or the group name otherwise."""


def entries(path):
    """The `name:x:id:...` entries of a passwd or group file, as field lists
    (comments, blank and malformed lines skipped; a missing file is empty)."""
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return []
    found = []
    for line in lines:
        fields = line.split(":")
        if line.startswith("#") or len(fields) < 3 or not fields[2].isdigit():
            continue
        found.append(fields)
    return found


def append(path, line):
    """Appends `line` to the file at `path` (created 0644 if missing), after
    a newline if the file does not end with one."""
    needs_newline = False
    try:
        with open(path, "rb") as f:
            if f.seek(0, os.SEEK_END) > 0:
                f.seek(-1, os.SEEK_END)
                needs_newline = f.read(1) != b"\n"
    except FileNotFoundError:
        pass
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(("\n" if needs_newline else "") + line + "\n")


def plan(root, name, uid, gid):
    """What to add: None when the user exists, else whether the group must be
    added too. Raises Collision for an id or group the base uses otherwise."""
    etc = os.path.join(root, "etc")
    users = entries(os.path.join(etc, "passwd"))
    if any(u[0] == name for u in users):
        return None
    for u in users:
        if int(u[2]) == uid:
            raise Collision(f"uid {uid} already belongs to user `{u[0]}` in the runtime base's /etc/passwd")
    groups = entries(os.path.join(etc, "group"))
    for g in groups:
        if g[0] == name:
            if int(g[2]) != gid:
                raise Collision(f"the runtime base already has a group `{name}`, with gid {g[2]}, not {gid}")
            return {"group": False}
    for g in groups:
        if int(g[2]) == gid:
            raise Collision(f"gid {gid} already belongs to group `{g[0]}` in the runtime base's /etc/group")
    return {"group": True}


def ensure_user(root, name, uid, gid, chown=os.chown):
    """Creates user `name` under `root` unless it exists. Returns what it did,
    for the build log."""
    todo = plan(root, name, uid, gid)
    if todo is None:
        return f"user `{name}` exists in the runtime base: nothing to do"
    etc = os.path.join(root, "etc")
    os.makedirs(etc, mode=0o755, exist_ok=True)
    if todo["group"]:
        append(os.path.join(etc, "group"), f"{name}:x:{gid}:")
        if os.path.exists(os.path.join(etc, "gshadow")):
            append(os.path.join(etc, "gshadow"), f"{name}:!::")
    home = f"/home/{name}"
    append(os.path.join(etc, "passwd"), f"{name}:x:{uid}:{gid}::{home}:{SHELL}")
    if os.path.exists(os.path.join(etc, "shadow")):
        # Locked password, no ageing dates: the same bytes in every build.
        append(os.path.join(etc, "shadow"), f"{name}:!:::::::")
    home_dir = os.path.join(root, home.lstrip("/"))
    os.makedirs(os.path.dirname(home_dir), mode=0o755, exist_ok=True)
    os.makedirs(home_dir, mode=0o755, exist_ok=True)
    os.chmod(home_dir, 0o755)
    chown(home_dir, uid, gid)
    return f"created user `{name}` (uid {uid}, gid {gid}, home {home})"


def main(argv):
    if len(argv) != 3 or not argv[1].isdigit() or not argv[2].isdigit():
        print("usage: appuser.py NAME UID GID", file=sys.stderr)
        return EXIT_USAGE
    name, uid, gid = argv[0], int(argv[1]), int(argv[2])
    try:
        print(ensure_user("/", name, uid, gid))
    except Collision as e:
        print(f"error: cannot create user `{name}`: {e}", file=sys.stderr)
        print(
            f"help: set `user` in [app] to a user the runtime base has, or to a free `uid:gid`; "
            f"pyfront creates a missing user with uid and gid {uid}",
            file=sys.stderr,
        )
        return EXIT_COLLISION
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
