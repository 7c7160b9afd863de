"""Tests of appuser.py: a missing user is added with fixed ids and a home,
an existing one is left alone, and colliding ids are refused before any
file changes."""

import io
import os
import stat
import tempfile
import unittest
from contextlib import redirect_stderr, redirect_stdout
from unittest import mock

import appuser

PASSWD = "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
GROUP = "root:x:0:\nnogroup:x:65534:\n"


class AppUserTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.root = self.dir.name
        os.makedirs(os.path.join(self.root, "etc"))
        self.write("passwd", PASSWD)
        self.write("group", GROUP)
        self.chowned = []

    def tearDown(self):
        self.dir.cleanup()

    def write(self, name, text):
        with open(os.path.join(self.root, "etc", name), "w") as f:
            f.write(text)

    def read(self, name):
        with open(os.path.join(self.root, "etc", name)) as f:
            return f.read()

    def ensure(self, name="app", uid=10001, gid=10001):
        return appuser.ensure_user(self.root, name, uid, gid, chown=lambda *a: self.chowned.append(a))

    def test_a_missing_user_gets_its_group_entry_and_home(self):
        message = self.ensure()
        self.assertIn("created user `app` (uid 10001, gid 10001", message)
        self.assertEqual(self.read("passwd"), PASSWD + "app:x:10001:10001::/home/app:/usr/sbin/nologin\n")
        self.assertEqual(self.read("group"), GROUP + "app:x:10001:\n")
        home = os.path.join(self.root, "home/app")
        self.assertEqual(stat.S_IMODE(os.stat(home).st_mode), 0o755)
        self.assertEqual(self.chowned, [(home, 10001, 10001)])
        self.assertFalse(os.path.exists(os.path.join(self.root, "etc/shadow")))

    def test_shadow_files_get_locked_entries_when_the_base_has_them(self):
        self.write("shadow", "root:*:19000:0:99999:7:::\n")
        self.write("gshadow", "root:*::\n")
        self.ensure()
        self.assertTrue(self.read("shadow").endswith("\napp:!:::::::\n"))
        self.assertTrue(self.read("gshadow").endswith("\napp:!::\n"))

    def test_an_existing_user_is_left_alone(self):
        self.write("passwd", PASSWD + "app:x:1000:1000::/home/app:/bin/sh\n")
        self.assertIn("exists", self.ensure())
        self.assertEqual(self.read("passwd"), PASSWD + "app:x:1000:1000::/home/app:/bin/sh\n")
        self.assertEqual(self.read("group"), GROUP)
        self.assertEqual(self.chowned, [])

    def test_an_existing_group_of_the_name_and_gid_is_reused(self):
        self.write("group", GROUP + "app:x:10001:\n")
        self.ensure()
        self.assertEqual(self.read("group"), GROUP + "app:x:10001:\n")
        self.assertIn("app:x:10001:10001:", self.read("passwd"))

    def test_collisions_are_refused_before_any_change(self):
        cases = [
            ("passwd", PASSWD + "bob:x:10001:100::/home/bob:/bin/sh\n", "uid 10001 already belongs to user `bob`"),
            ("group", GROUP + "staff:x:10001:\n", "gid 10001 already belongs to group `staff`"),
            ("group", GROUP + "app:x:500:\n", "already has a group `app`, with gid 500, not 10001"),
        ]
        for name, text, message in cases:
            with self.subTest(message):
                self.write("passwd", PASSWD)
                self.write("group", GROUP)
                self.write(name, text)
                with self.assertRaisesRegex(appuser.Collision, message):
                    self.ensure()
                self.assertEqual(self.read(name), text)
                self.assertFalse(os.path.exists(os.path.join(self.root, "home")))

    def test_files_without_a_final_newline_or_missing(self):
        self.write("passwd", PASSWD.rstrip("\n"))
        os.remove(os.path.join(self.root, "etc/group"))
        self.ensure()
        self.assertEqual(self.read("passwd").splitlines()[-2:], PASSWD.splitlines()[-1:] + ["app:x:10001:10001::/home/app:/usr/sbin/nologin"])
        self.assertEqual(self.read("group"), "app:x:10001:\n")

    def test_malformed_lines_are_skipped(self):
        self.write("passwd", PASSWD + "# comment\nbroken\nx:x:notanid:0::/:/bin/sh\n")
        self.ensure()
        self.assertTrue(self.read("passwd").endswith("app:x:10001:10001::/home/app:/usr/sbin/nologin\n"))

    def test_main_reports_a_collision_and_usage(self):
        err = io.StringIO()
        with redirect_stderr(err):
            self.assertEqual(appuser.main(["app", "x", "1"]), appuser.EXIT_USAGE)
        with mock.patch.object(appuser, "ensure_user", side_effect=appuser.Collision("uid 10001 already belongs to user `bob`")):
            with redirect_stderr(err), redirect_stdout(io.StringIO()):
                self.assertEqual(appuser.main(["app", "10001", "10001"]), appuser.EXIT_COLLISION)
        self.assertIn("error: cannot create user `app`: uid 10001 already belongs to user `bob`", err.getvalue())
        self.assertIn("help: set `user` in [app]", err.getvalue())


if __name__ == "__main__":
    unittest.main()
