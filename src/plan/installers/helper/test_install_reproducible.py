import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from install_reproducible import EPOCH, compile_command, fix_mtimes, make_reproducible, site_packages  # noqa: E402


class ReproducibleVenvTest(unittest.TestCase):
    def venv(self):
        root = tempfile.mkdtemp()
        self.addCleanup(lambda: __import__("shutil").rmtree(root))
        site = os.path.join(root, "lib", "python3.11", "site-packages", "pkg")
        os.makedirs(site)
        with open(os.path.join(site, "__init__.py"), "w") as f:
            f.write("X = 1\n")
        os.makedirs(os.path.join(root, "bin"))
        os.symlink("/usr/bin/python3", os.path.join(root, "bin", "python"))
        os.symlink("lib", os.path.join(root, "lib64"))
        return root

    def mtimes(self, root):
        found = {}
        for dirpath, dirnames, filenames in os.walk(root):
            for name in [""] + dirnames + filenames:
                path = os.path.join(dirpath, name)
                found[path] = os.lstat(path).st_mtime
        return found

    def test_every_path_gets_the_epoch_symlinks_themselves_not_their_targets(self):
        root = self.venv()
        target = os.lstat("/usr/bin/python3").st_mtime
        count = fix_mtimes(root)
        self.assertEqual(set(self.mtimes(root).values()), {EPOCH})
        self.assertEqual(count, 9)
        self.assertEqual(os.lstat("/usr/bin/python3").st_mtime, target)

    def test_site_packages_skips_the_lib64_symlink(self):
        root = self.venv()
        self.assertEqual(site_packages(root), [os.path.join(root, "lib", "python3.11", "site-packages")])

    def test_the_compile_runs_without_site_in_one_process_in_timestamp_mode(self):
        command = compile_command("/opt/venv", "/opt/venv/lib/python3.11/site-packages")
        self.assertEqual(command[:5], ["/opt/venv/bin/python", "-I", "-S", "-m", "compileall"])
        self.assertIn("timestamp", command)
        self.assertNotIn("-j", " ".join(command).split())

    def test_compiled_bytecode_records_the_epoch_and_gets_it_as_its_mtime(self):
        root = self.venv()
        seen = []

        def run(command, **_):
            seen.append(command)
            import py_compile
            source = os.path.join(command[-1], "pkg", "__init__.py")
            py_compile.compile(source, invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)
            return 0

        self.assertEqual(make_reproducible(root, True, run=run), 0)
        self.assertEqual(len(seen), 1)
        self.assertEqual(set(self.mtimes(root).values()), {EPOCH})
        pyc = [p for p in self.mtimes(root) if p.endswith(".pyc")]
        self.assertEqual(len(pyc), 1)
        with open(pyc[0], "rb") as f:
            header = f.read(16)
        self.assertEqual(int.from_bytes(header[8:12], "little"), EPOCH)

    def test_uv_venvs_are_not_compiled_and_a_crashed_compile_fails(self):
        root = self.venv()
        self.assertEqual(make_reproducible(root, False, run=lambda *a, **k: self.fail("compiled")), 0)
        self.assertEqual(make_reproducible(root, True, run=lambda *a, **k: 1), 0)
        self.assertEqual(make_reproducible(root, True, run=lambda *a, **k: 70), 70)


if __name__ == "__main__":
    unittest.main()
