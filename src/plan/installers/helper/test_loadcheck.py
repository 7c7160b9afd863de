"""Tests of loadcheck.py: finding shared objects, reading loader errors,
mapping a library to the builder's Debian package, the report."""

import os
import tempfile
import unittest

import loadcheck


class LoadCheckTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.root = self.dir.name

    def tearDown(self):
        self.dir.cleanup()

    def write(self, relative, data):
        path = os.path.join(self.root, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_only_elf_shared_objects_are_found(self):
        a = self.write("venv/lib/site/psycopg2/_psycopg.cpython-311-x86_64-linux-gnu.so", b"\x7fELF...")
        b = self.write("venv/lib/site/x.libs/libfoo.so.1.2", b"\x7fELF...")
        self.write("venv/lib/site/notes.so.txt", b"\x7fELF")
        self.write("venv/lib/site/fake.so", b"#!/bin/sh")
        os.symlink(b, os.path.join(self.root, "venv/lib/site/x.libs/libfoo.so"))
        self.assertEqual(loadcheck.shared_objects(self.root), sorted([a, b]))

    def test_the_missing_library_is_read_from_the_loader_error(self):
        error = OSError("libpq.so.5: cannot open shared object file: No such file or directory")
        self.assertEqual(loadcheck.missing_library(error), "libpq.so.5")
        nested = OSError("/opt/venv/x.so: libpython3.11.so.1.0: cannot open shared object file: No such file")
        self.assertEqual(loadcheck.missing_library(nested), "libpython3.11.so.1.0")
        self.assertIsNone(loadcheck.missing_library(OSError("x.so: undefined symbol: foo")))

    def test_check_groups_objects_by_missing_library(self):
        def load(path):
            if path.endswith("a.so"):
                raise OSError("libpq.so.5: cannot open shared object file: No such file or directory")
            if path.endswith("b.so"):
                raise OSError("b.so: undefined symbol: x")

        missing = loadcheck.check(["/v/a.so", "/v/b.so", "/v/c.so"], load=load)
        self.assertEqual(missing, {"libpq.so.5": ["/v/a.so"]})

    def test_the_package_comes_from_the_builders_dpkg_lists(self):
        info = os.path.join(self.root, "info")
        os.makedirs(info)
        with open(os.path.join(info, "libpq5:amd64.list"), "w") as f:
            f.write("/.\n/usr/lib/x86_64-linux-gnu/libpq.so.5.15\n/usr/lib/x86_64-linux-gnu/libpq.so.5\n")
        with open(os.path.join(info, "libpq-dev:amd64.list"), "w") as f:
            f.write("/usr/lib/x86_64-linux-gnu/libpq.so\n")
        with open(os.path.join(info, "libpq5:amd64.md5sums"), "w") as f:
            f.write("x /usr/lib/x86_64-linux-gnu/libpq.so.5\n")
        self.assertEqual(loadcheck.packages_providing("libpq.so.5", info), ["libpq5"])
        self.assertEqual(loadcheck.packages_providing("libnope.so.1", info), [])
        self.assertEqual(loadcheck.packages_providing("libpq.so.5", os.path.join(self.root, "none")), [])

    def test_the_report_names_the_objects_and_the_exact_spec_line(self):
        info = os.path.join(self.root, "info")
        os.makedirs(info)
        with open(os.path.join(info, "libpq5:amd64.list"), "w") as f:
            f.write("/usr/lib/x86_64-linux-gnu/libpq.so.5\n")
        missing = {
            "libpq.so.5": ["/opt/venv/lib/python3.11/site-packages/psycopg2/_psycopg.so"],
            "libzzz.so.9": ["/app/vendor/z.so"],
        }
        lines = loadcheck.report(missing, info, ["/opt/venv", "/app"])
        self.assertEqual(
            lines,
            [
                "error: `lib/python3.11/site-packages/psycopg2/_psycopg.so` needs `libpq.so.5`, which the runtime image does not have",
                "error: `vendor/z.so` needs `libzzz.so.9`, which the runtime image does not have",
                "  no package of the builder ships `libzzz.so.9`: add the Debian package that provides it to `system-packages` in [app]",
                'help: add `system-packages = ["libpq5"]` to [app]',
            ],
        )

    def test_main_exits_zero_when_everything_loads_and_two_on_bad_arguments(self):
        self.assertEqual(loadcheck.main(["loadcheck.py", self.root, "--dpkg-info", self.root]), 0)
        self.assertEqual(loadcheck.main(["loadcheck.py", self.root]), 2)
        self.assertEqual(loadcheck.main(["loadcheck.py", "--dpkg-info"]), 2)

    def test_an_object_that_fails_for_another_reason_is_not_reported(self):
        # A broken ELF header is the loader's "invalid ELF header", not a
        # missing library: the check reports only what a package fixes.
        path = self.write("venv/libmissing.so.1", b"\x7fELF\x02\x01\x01" + b"\0" * 57)
        missing = loadcheck.check([path])
        self.assertEqual(missing, {})


if __name__ == "__main__":
    unittest.main()
