"""Archives inside archives, unpacked for the canary scanner (scan.rs, deep mode).

The scanner reads every file as stored and gzip/zstd streams decompressed, so a
token in a tar member is found. It does not see inside a zip (a wheel in an
installer's cache) or an archive inside another one (a wheel in a layer tar).
This program does: for each path on stdin (one per line), it writes to stdout
the content of every member of every archive it finds inside that file,
recursively (zip, tar, gzip, zstd), and to the index file (argv[1]) one line
`OFFSET<TAB>PATH :: MEMBER :: MEMBER...` where each member's bytes start, so a
hit names its member. Content the scanner already reads (a file's own bytes, a
top-level gzip stream) is not repeated. Bounded by counting, not by time: at
most MAX_DEPTH levels and MAX_BYTES of output; what is cut is reported.
A summary line goes to stderr: `archives=N members=M bytes=B cut=C`.
"""
import gzip
import io
import subprocess
import sys
import tarfile
import zipfile

MAX_DEPTH = 6
MAX_BYTES = 8 << 30

out = sys.stdout.buffer
index = open(sys.argv[1], "w", encoding="utf-8", errors="replace")
stats = {"archives": 0, "members": 0, "bytes": 0, "cut": 0}
offset = 0


def kind(head):
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if head[:4] == b"\x28\xb5\x2f\xfd":
        return "zstd"
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar"
    return None


def emit(where, data):
    global offset
    if stats["bytes"] + len(data) > MAX_BYTES:
        stats["cut"] += 1
        return
    index.write("%d\t%s\n" % (offset, " :: ".join(where)))
    out.write(data)
    out.write(b"\n")
    offset += len(data) + 1
    stats["bytes"] += len(data)
    stats["members"] += 1


def zstd_decompress(data):
    p = subprocess.run(["zstd", "-dc"], input=data, capture_output=True)
    return p.stdout if p.returncode == 0 else None


def expand(where, data, depth, visible):
    """Emits what the scanner has not seen of `data`: `data` itself unless
    `visible` (its bytes were in a stream the scanner read), and, when it is
    an archive, its members (a tar's members are visible when the tar is;
    what comes out of a zip, gzip or zstd never is)."""
    if depth > MAX_DEPTH:
        stats["cut"] += 1
        return
    k = kind(data[:512])
    try:
        if k is None:
            if not visible:
                emit(where, data)
        elif k == "gzip":
            expand(where + ["(gzip -d)"], gzip.decompress(data), depth + 1, False)
        elif k == "zstd":
            inner = zstd_decompress(data)
            if inner is not None:
                expand(where + ["(zstd -d)"], inner, depth + 1, False)
        elif k == "zip":
            stats["archives"] += 1
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                for info in z.infolist():
                    if not info.is_dir():
                        expand(where + [info.filename], z.read(info), depth + 1, False)
        elif k == "tar":
            stats["archives"] += 1
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as t:
                for m in t:
                    if m.isfile():
                        f = t.extractfile(m)
                        expand(where + [m.name], f.read() if f else b"", depth + 1, visible)
    except Exception as e:  # a damaged archive: say so, keep going
        sys.stderr.write("unpack: %s: %s\n" % (" :: ".join(where), e))
        stats["cut"] += 1


def top(path):
    """A file on disk: only what the scanner cannot see itself."""
    try:
        with open(path, "rb") as f:
            head = f.read(512)
            k = kind(head)
            if k is None:
                return
            if k in ("gzip", "zstd"):
                # The scanner reads the decompressed stream; look inside it
                # only when it is an archive itself (a layer blob).
                if k == "gzip":
                    f.seek(0)
                    try:
                        inner_head = gzip.GzipFile(fileobj=f).read(512)
                    except (OSError, EOFError):
                        return
                else:
                    f.seek(0)
                    inner_head = zstd_decompress(f.read())
                    if inner_head is None:
                        return
                if kind(inner_head[:512]) is None:
                    return
            f.seek(0)
            data = f.read()
    except OSError as e:
        sys.stderr.write("unpack: %s: %s\n" % (path, e))
        stats["cut"] += 1
        return
    if k == "zip" or k == "tar":
        expand([path], data, 0, True)
    else:
        # The scanner read the decompressed stream (a tar: its members'
        # bytes); what is inside those members it did not.
        inner = gzip.decompress(data) if k == "gzip" else zstd_decompress(data)
        if inner is not None:
            expand([path, "(%s -d)" % k], inner, 1, True)


for line in sys.stdin:
    p = line.rstrip("\n")
    if p:
        top(p)
out.flush()
index.close()
sys.stderr.write("archives=%(archives)d members=%(members)d bytes=%(bytes)d cut=%(cut)d\n" % stats)
