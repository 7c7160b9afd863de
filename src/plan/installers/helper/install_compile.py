"""Compiles installed .py files to bytecode on every core, as pip does for
what it installs (timestamp-checked .pyc, a file that does not compile left
without one). Run by the venv's own interpreter, so that the .pyc are its
own:

    VENV/bin/python -I install_compile.py < SOURCES

SOURCES: the absolute paths, NUL-separated. Prints `source<TAB>pyc`, NUL-
separated, for each file that compiled. Standard library only.
"""

import os
import py_compile
import sys
from concurrent.futures import ProcessPoolExecutor


def compile_one(source):
    """The .pyc written for `source`, or None when it does not compile."""
    try:
        return py_compile.compile(source, doraise=True)
    except (py_compile.PyCompileError, OSError, SyntaxError, ValueError):
        return None


def compile_all(sources, workers):
    """{source: pyc} for the sources that compiled; in `workers` processes,
    or in this one where processes cannot be made."""
    if workers > 1 and len(sources) > 1:
        try:
            with ProcessPoolExecutor(workers) as pool:
                results = list(pool.map(compile_one, sources, chunksize=16))
            return {s: p for s, p in zip(sources, results) if p}
        except (OSError, NotImplementedError, ImportError):
            # No working semaphores (no /dev/shm): one process then.
            pass
    return {s: p for s, p in ((s, compile_one(s)) for s in sources) if p}


def main():
    data = sys.stdin.buffer.read().decode("utf-8")
    sources = [s for s in data.split("\0") if s]
    compiled = compile_all(sources, os.cpu_count() or 1)
    sys.stdout.buffer.write("\0".join("%s\t%s" % (s, compiled[s]) for s in sources if s in compiled).encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
