//! A byte scanner for canary tokens: raw, base64 (as in an `Authorization:
//! Basic` header) and trailing fragments, through files, directory trees,
//! tar archives and gzip/zstd streams. Hits name the surface and the place
//! (file, tar member, offset), never more of a token than its public prefix.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use memchr::memmem::Finder;

/// Every canary starts with this, so one search finds the tokens of this run
/// and of any earlier run, whole or cut after the prefix.
pub const PREFIX: &str = "pyfrontleakcanary";

/// A secret value made for one test. `label` is public; the value is not.
pub struct Canary {
    pub label: String,
    pub value: String,
}

impl Canary {
    pub fn new(label: &str) -> Self {
        Self::with_prefix(PREFIX, label)
    }

    /// A canary outside this suite's family (for planted leaks that must not
    /// show up in later scans as "a token of another run").
    pub fn with_prefix(prefix: &str, label: &str) -> Self {
        let mut bytes = [0u8; 12];
        std::fs::File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut bytes))
            .unwrap();
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Self {
            label: label.to_owned(),
            value: format!("{prefix}{label}{hex}"),
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Form {
    Raw,
    /// Base64 with the token starting at this offset mod 3 of the encoded input.
    Base64(usize),
}

struct Needle {
    finder: Finder<'static>,
    form: Form,
    /// `None`: the shared prefix (classified on a hit); `Some(i)`: the tail of
    /// canary `i`.
    tail_of: Option<usize>,
}

/// One place a token (or a recognizable part of one) was found.
pub struct Hit {
    pub surface: String,
    pub location: String,
    pub what: String,
}

/// What was scanned for one surface.
#[derive(Default)]
pub struct SurfaceStats {
    pub files: u64,
    /// Bytes read as stored.
    pub bytes: u64,
    /// Bytes scanned after decompressing gzip/zstd files and streams.
    pub decompressed: u64,
    /// Archives looked into by `unpack.py` (deep mode).
    pub archives: u64,
    pub seconds: f64,
    /// Things not scanned, each with the reason (sockets, mount points, ...).
    pub not_scanned: Vec<String>,
}

pub struct Scanner {
    prefix: String,
    canaries: Vec<Canary>,
    needles: Vec<Needle>,
    /// Per canary and form, the exact bytes a whole token looks like.
    whole: Vec<Vec<(Form, Vec<u8>)>>,
    overlap: usize,
    pub stats: BTreeMap<String, SurfaceStats>,
    pub hits: Vec<Hit>,
    /// Deep mode ([`Scanner::deep`]): archives found since the last flush,
    /// to look inside with `unpack.py`.
    deep: bool,
    pending: Vec<PathBuf>,
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(B64[((n >> (18 - 6 * i)) & 63) as usize]);
        }
    }
    out
}

/// The base64 characters that depend only on `s` when `s` starts at byte
/// `align` (mod 3) of the encoded input, whatever surrounds it.
fn base64_core(s: &[u8], align: usize) -> Vec<u8> {
    let mut input = vec![0u8; align];
    input.extend_from_slice(s);
    let encoded = base64(&input);
    let first = (8 * align).div_ceil(6);
    let last = 8 * (align + s.len()) / 6;
    encoded[first..last].to_vec()
}

fn forms(s: &[u8]) -> Vec<(Form, Vec<u8>)> {
    let mut v = vec![(Form::Raw, s.to_vec())];
    for align in 0..3 {
        v.push((Form::Base64(align), base64_core(s, align)));
    }
    v
}

impl Scanner {
    pub fn new(canaries: Vec<Canary>) -> Self {
        Self::with_prefix(PREFIX, canaries)
    }

    /// Searches for `prefix` (which every canary starts with) and the tails.
    pub fn with_prefix(prefix: &str, canaries: Vec<Canary>) -> Self {
        let mut needles = Vec::new();
        for (form, bytes) in forms(prefix.as_bytes()) {
            needles.push(Needle {
                finder: Finder::new(&bytes).into_owned(),
                form,
                tail_of: None,
            });
        }
        // The random tail alone catches a token whose start was cut off.
        for (i, c) in canaries.iter().enumerate() {
            let tail = &c.value.as_bytes()[c.value.len() - 16..];
            needles.push(Needle {
                finder: Finder::new(tail).into_owned(),
                form: Form::Raw,
                tail_of: Some(i),
            });
        }
        let whole: Vec<_> = canaries.iter().map(|c| forms(c.value.as_bytes())).collect();
        let longest = whole
            .iter()
            .flatten()
            .map(|(_, b)| b.len())
            .max()
            .unwrap_or(64);
        Self {
            prefix: prefix.to_owned(),
            canaries,
            needles,
            whole,
            overlap: longest + 64,
            stats: BTreeMap::new(),
            hits: Vec::new(),
            deep: false,
            pending: Vec::new(),
        }
    }

    /// Also looks inside archives in archives: zip files (wheels in an
    /// installer's cache), and zip, tar or compressed members of tars and
    /// compressed tars (a wheel in a layer). See `unpack.py`.
    pub fn deep(mut self) -> Self {
        self.deep = true;
        self
    }

    pub fn canaries(&self) -> &[Canary] {
        &self.canaries
    }

    fn stat(&mut self, surface: &str) -> &mut SurfaceStats {
        self.stats.entry(surface.to_owned()).or_default()
    }

    /// Scans a stream; returns the offsets and descriptions of its hits.
    fn scan_stream(
        &self,
        mut r: impl Read,
        size_hint: Option<u64>,
    ) -> std::io::Result<(u64, Vec<(u64, String)>)> {
        // Small files (most of a data root) get a small buffer.
        let cap = size_hint.map_or(8 << 20, |n| {
            (n as usize + 1).clamp(4 * self.overlap, 8 << 20)
        });
        let mut buf = vec![0u8; cap];
        let mut kept = 0usize; // bytes carried over from the previous chunk
        let mut base = 0u64; // stream offset of buf[0]
        let mut total = 0u64;
        let mut found = Vec::new();
        loop {
            // Fill the buffer (pipes hand out 64 KiB at a time) before searching.
            let mut end = kept;
            let mut eof = false;
            while end < buf.len() {
                match r.read(&mut buf[end..]) {
                    Ok(0) => {
                        eof = true;
                        break;
                    }
                    Ok(n) => end += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            total += (end - kept) as u64;
            // Each round reports the matches that start in [lo, hi): those
            // before `lo` were reported with the previous chunk, those from
            // `hi` on are reported with the next one, so that a whole token
            // is in the buffer when a hit is classified.
            let lo = if base == 0 && kept == 0 {
                0
            } else {
                kept - (self.overlap - 64)
            };
            let hi = if eof { end } else { end - (self.overlap - 64) };
            for needle in &self.needles {
                for p in needle.finder.find_iter(&buf[..end]) {
                    if p < lo || p >= hi {
                        continue;
                    }
                    if let Some(i) = needle.tail_of {
                        // Part of a whole raw token, which the prefix needle reports.
                        let value = self.canaries[i].value.as_bytes();
                        let start = p + 16;
                        if start >= value.len() && buf[start - value.len()..start] == *value {
                            continue;
                        }
                    }
                    found.push((base + p as u64, self.classify(needle, &buf[p..end])));
                }
            }
            if eof {
                break;
            }
            let keep = self.overlap.min(end);
            buf.copy_within(end - keep..end, 0);
            base += (end - keep) as u64;
            kept = keep;
        }
        found.sort();
        found.dedup_by(|a, b| a.0 == b.0);
        Ok((total, found))
    }

    /// The public part of a token, safe to print.
    fn shown(&self, value: &str) -> String {
        format!("{}…", &value[..self.prefix.len().min(value.len())])
    }

    fn classify(&self, needle: &Needle, at: &[u8]) -> String {
        if let Some(i) = needle.tail_of {
            return format!(
                "the end of token `{}` ({}), raw",
                self.canaries[i].label,
                self.shown(&self.canaries[i].value)
            );
        }
        let form = match needle.form {
            Form::Raw => "raw".to_owned(),
            Form::Base64(a) => format!("base64 (alignment {a})"),
        };
        for (i, forms) in self.whole.iter().enumerate() {
            for (f, bytes) in forms {
                if *f == needle.form && at.starts_with(bytes) {
                    return format!(
                        "token `{}` ({}), {form}",
                        self.canaries[i].label,
                        self.shown(&self.canaries[i].value)
                    );
                }
            }
        }
        format!(
            "the canary prefix `{}` (a token of another run, or cut short), {form}",
            self.prefix
        )
    }

    /// Scans text or bytes held in memory.
    pub fn scan_bytes(&mut self, surface: &str, location: &str, bytes: &[u8]) {
        let started = std::time::Instant::now();
        let (n, found) = self.scan_stream(bytes, Some(bytes.len() as u64)).unwrap();
        for (offset, what) in found {
            self.hits.push(Hit {
                surface: surface.to_owned(),
                location: format!("{location} (byte {offset})"),
                what,
            });
        }
        let s = self.stat(surface);
        s.files += 1;
        s.bytes += n;
        s.seconds += started.elapsed().as_secs_f64();
    }

    /// Scans one file as stored and, when it is gzip or zstd, decompressed.
    /// A hit inside a tar archive names the member.
    pub fn scan_file(&mut self, surface: &str, path: &Path) {
        self.scan_one_file(surface, path);
        self.unpack_pending(surface);
    }

    fn scan_one_file(&mut self, surface: &str, path: &Path) {
        let started = std::time::Instant::now();
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) => {
                // Files can vanish while a daemon runs; say so.
                self.stat(surface)
                    .not_scanned
                    .push(format!("{}: {e}", path.display()));
                return;
            }
        };
        let size = file.metadata().map(|m| m.len()).ok();
        let (n, found) = match self.scan_stream(file, size) {
            Ok(x) => x,
            Err(e) => {
                self.stat(surface)
                    .not_scanned
                    .push(format!("{}: read error: {e}", path.display()));
                return;
            }
        };
        self.record(surface, path, None, found);
        let s = self.stat(surface);
        s.files += 1;
        s.bytes += n;
        let mut magic = [0u8; 4];
        let read_magic = std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut magic));
        if self.deep && read_magic.is_ok() {
            let mut head = [0u8; 512];
            let is_tar = std::fs::File::open(path)
                .and_then(|mut f| f.read_exact(&mut head))
                .is_ok()
                && &head[257..262] == b"ustar";
            let archive = matches!(
                magic,
                [b'P', b'K', 3, 4]
                    | [b'P', b'K', 5, 6]
                    | [0x1f, 0x8b, _, _]
                    | [0x28, 0xb5, 0x2f, 0xfd]
            );
            if archive || is_tar {
                self.pending.push(path.to_owned());
            }
        }
        let compressed = match magic {
            _ if read_magic.is_err() => None,
            [0x1f, 0x8b, _, _] => Some("gzip"),
            [0x28, 0xb5, 0x2f, 0xfd] => Some("zstd"),
            _ => None,
        };
        if let Some(tool) = compressed {
            match decompress(tool, path, |r| self.scan_stream(r, None)) {
                Ok((n, found)) => {
                    self.record(surface, path, Some(tool), found);
                    self.stat(surface).decompressed += n;
                }
                Err(e) => self
                    .stat(surface)
                    .not_scanned
                    .push(format!("{} ({tool} -d): {e}", path.display())),
            }
        }
        self.stat(surface).seconds += started.elapsed().as_secs_f64();
    }

    fn record(
        &mut self,
        surface: &str,
        path: &Path,
        tool: Option<&str>,
        found: Vec<(u64, String)>,
    ) {
        if found.is_empty() {
            return;
        }
        // Only on a hit: read the whole stream again to name the tar member.
        let content = match tool {
            None => std::fs::read(path).ok(),
            Some(tool) => decompress(tool, path, |r| {
                let mut v = Vec::new();
                r.read_to_end(&mut v).map(|_| v)
            })
            .ok(),
        };
        for (offset, what) in found {
            let mut location = path.display().to_string();
            if let Some(tool) = tool {
                let _ = write!(location, " ({tool} -d)");
            }
            if let Some(member) = content.as_deref().and_then(|c| tar_member_at(c, offset)) {
                let _ = write!(location, " :: {member}");
            } else {
                let _ = write!(location, " (byte {offset})");
            }
            self.hits.push(Hit {
                surface: surface.to_owned(),
                location,
                what,
            });
        }
    }

    /// Scans every regular file under `root`, without following symlinks or
    /// crossing into other file systems; whatever is left out is listed.
    pub fn scan_tree(&mut self, surface: &str, root: &Path) {
        let started = std::time::Instant::now();
        let Ok(meta) = std::fs::symlink_metadata(root) else {
            self.stat(surface)
                .not_scanned
                .push(format!("{}: does not exist", root.display()));
            return;
        };
        let mounts = mount_types();
        let mut stack: Vec<(PathBuf, u64)> = vec![(root.to_owned(), meta.dev())];
        let before = self.stat(surface).seconds;
        while let Some((path, dev)) = stack.pop() {
            let meta = match std::fs::symlink_metadata(&path) {
                Ok(m) => m,
                Err(e) => {
                    self.stat(surface)
                        .not_scanned
                        .push(format!("{}: {e}", path.display()));
                    continue;
                }
            };
            let ft = meta.file_type();
            if ft.is_dir() {
                let mut dev = dev;
                if meta.dev() != dev {
                    let fstype = mounts
                        .iter()
                        .find(|(m, _)| Path::new(m) == path)
                        .map_or("?", |(_, t)| t.as_str());
                    if fstype == "tmpfs" {
                        // BuildKit mounts each secret on a tmpfs under the
                        // daemon's TMPDIR: one still mounted is scanned.
                        self.stat(surface).not_scanned.push(format!(
                            "{}: tmpfs mount point (scanned anyway)",
                            path.display()
                        ));
                        dev = meta.dev();
                    } else {
                        // A running container's rootfs (overlay) or a
                        // namespace file: its bytes live in the layers scanned
                        // elsewhere. Listed, not walked.
                        self.stat(surface)
                            .not_scanned
                            .push(format!("{}: mount point ({fstype})", path.display()));
                        continue;
                    }
                }
                match std::fs::read_dir(&path) {
                    Ok(entries) => {
                        let mut v: Vec<_> = entries
                            .filter_map(Result::ok)
                            .map(|e| (e.path(), dev))
                            .collect();
                        v.sort();
                        stack.extend(v.into_iter().rev());
                    }
                    Err(e) => self
                        .stat(surface)
                        .not_scanned
                        .push(format!("{}: {e}", path.display())),
                }
            } else if ft.is_file() {
                if meta.dev() != dev {
                    self.stat(surface)
                        .not_scanned
                        .push(format!("{}: bind-mounted file", path.display()));
                    continue;
                }
                self.scan_one_file(surface, &path);
            } else if ft.is_symlink() {
                // The link text can hold a token too.
                if let Ok(target) = std::fs::read_link(&path) {
                    let loc = format!("{} (symlink target)", path.display());
                    let bytes = target.as_os_str().as_encoded_bytes().to_vec();
                    self.scan_bytes(surface, &loc, &bytes);
                }
            } else if !(ft.is_socket()
                || ft.is_fifo()
                || ft.is_char_device()
                || ft.is_block_device())
            {
                self.stat(surface)
                    .not_scanned
                    .push(format!("{}: unknown file type", path.display()));
            }
            // Sockets, fifos and device nodes hold no stored bytes.
        }
        self.unpack_pending(surface);
        // scan_file adds its own time; count the walk once.
        let s = self.stat(surface);
        s.seconds = before + started.elapsed().as_secs_f64();
    }

    /// Deep mode: scans what `unpack.py` finds inside the pending archives
    /// (one process for all of them); hits name the archive and the member.
    fn unpack_pending(&mut self, surface: &str) {
        let paths = std::mem::take(&mut self.pending);
        if paths.is_empty() {
            return;
        }
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/leaks/unpack.py");
        let index = tempfile::NamedTempFile::new().unwrap();
        let mut child = Command::new("python3")
            .arg(&script)
            .arg(index.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 (for tests/leaks/unpack.py)");
        let mut stdin = child.stdin.take().unwrap();
        let list: Vec<u8> = paths
            .iter()
            .flat_map(|p| {
                let mut line = p.as_os_str().as_encoded_bytes().to_vec();
                line.push(b'\n');
                line
            })
            .collect();
        let writer = std::thread::spawn(move || {
            use std::io::Write as _;
            let _ = stdin.write_all(&list);
        });
        let mut stderr = child.stderr.take().unwrap();
        let errors = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let mut stdout = child.stdout.take().unwrap();
        let scanned = self.scan_stream(&mut stdout, None);
        drop(stdout);
        let _ = writer.join();
        let status = child.wait().unwrap();
        let errors = errors.join().unwrap_or_default();
        let (n, found) = match scanned {
            Ok(x) => x,
            Err(e) => {
                self.stat(surface)
                    .not_scanned
                    .push(format!("unpack.py output: {e}"));
                return;
            }
        };
        let members: Vec<(u64, String)> = std::fs::read_to_string(index.path())
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let (o, name) = l.split_once('\t')?;
                Some((o.parse().ok()?, name.to_owned()))
            })
            .collect();
        for (offset, what) in found {
            let i = members.partition_point(|(o, _)| *o <= offset);
            let location = match i.checked_sub(1).map(|i| &members[i]) {
                Some((start, name)) => format!("{name} (unpacked, byte {})", offset - start),
                None => format!("unpack.py output (byte {offset})"),
            };
            self.hits.push(Hit {
                surface: surface.to_owned(),
                location,
                what,
            });
        }
        let s = self.stat(surface);
        s.decompressed += n;
        for line in errors.lines() {
            if let Some(rest) = line.strip_prefix("archives=") {
                let count: u64 = rest
                    .split_whitespace()
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                s.archives += count;
                if !line.ends_with(" cut=0") {
                    s.not_scanned
                        .push(format!("unpack.py stopped early: {line}"));
                }
            } else if !line.trim().is_empty() {
                s.not_scanned.push(line.to_owned());
            }
        }
        if !status.success() {
            s.not_scanned
                .push(format!("unpack.py failed ({status}): {}", errors.trim()));
        }
    }

    /// Panics listing every hit (never a token beyond its prefix).
    pub fn assert_clean(&self, context: &str) {
        if self.hits.is_empty() {
            return;
        }
        let mut msg = format!("{} canary hit(s) in {context}:\n", self.hits.len());
        for h in &self.hits {
            let _ = writeln!(msg, "  [{}] {}: {}", h.surface, h.location, h.what);
        }
        panic!("{msg}");
    }

    /// One line per surface: bytes, files, time, what was left out.
    pub fn summary(&self, context: &str) -> String {
        let mut s = format!("leak scan {context}: {} hit(s)\n", self.hits.len());
        for h in self.hits.iter().take(40) {
            let _ = writeln!(s, "  HIT [{}] {}: {}", h.surface, h.location, h.what);
        }
        for (name, st) in &self.stats {
            let _ = writeln!(
                s,
                "  {name:<34} {:>6} file(s) {:>14} bytes {:>14} decompressed {:>7.2}s",
                st.files, st.bytes, st.decompressed, st.seconds
            );
            if st.archives > 0 {
                let _ = writeln!(s, "      unpacked: {} archive(s) in archives", st.archives);
            }
            for n in &st.not_scanned {
                let _ = writeln!(s, "      not scanned: {n}");
            }
        }
        s
    }
}

/// (mount point, file system type) from `/proc/mounts`.
fn mount_types() -> Vec<(String, String)> {
    std::fs::read_to_string("/proc/mounts")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let _source = f.next()?;
            Some((f.next()?.to_owned(), f.next()?.to_owned()))
        })
        .collect()
}

/// Runs `gzip -dc` / `zstd -dc` on `path` and hands its stdout to `f`.
fn decompress<T>(
    tool: &str,
    path: &Path,
    f: impl FnOnce(&mut dyn Read) -> std::io::Result<T>,
) -> std::io::Result<T> {
    let mut child = Command::new(tool)
        .args(["-dc", "--"])
        .arg(path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut out = child.stdout.take().unwrap();
    let result = f(&mut out);
    drop(out);
    let output = child.wait_with_output()?;
    if !output.status.success() {
        return Err(std::io::Error::other(format!(
            "{tool} -d failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    result
}

fn octal(field: &[u8]) -> Option<u64> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        // GNU base-256 for large sizes.
        return Some(
            field[1..]
                .iter()
                .fold(0u64, |n, b| (n << 8) | u64::from(*b)),
        );
    }
    let s = std::str::from_utf8(field).ok()?;
    let s = s.trim_matches(|c: char| c == '\0' || c == ' ');
    if s.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(s, 8).ok()
}

fn cstr(field: &[u8]) -> String {
    let end = field.iter().position(|b| *b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

fn is_tar(data: &[u8]) -> bool {
    data.len() >= 512 && &data[257..262] == b"ustar"
}

/// The tar member (and, for a tar inside a tar such as a layer in `docker
/// save`, the inner member) that holds byte `offset` of `data`.
fn tar_member_at(data: &[u8], offset: u64) -> Option<String> {
    if !is_tar(data) {
        return None;
    }
    let mut pos = 0usize;
    let mut long_name: Option<String> = None;
    while pos + 512 <= data.len() {
        let h = &data[pos..pos + 512];
        if h.iter().all(|b| *b == 0) {
            return None;
        }
        let size = usize::try_from(octal(&h[124..136])?).ok()?;
        let kind = h[156];
        let mut name = cstr(&h[0..100]);
        let prefix = cstr(&h[345..500]);
        if !prefix.is_empty() && &h[257..262] == b"ustar" {
            name = format!("{prefix}/{name}");
        }
        if let Some(n) = long_name.take() {
            name = n;
        }
        let body = pos + 512;
        let end = body.checked_add(size)?;
        let off = usize::try_from(offset).ok()?;
        if off >= pos && off < body {
            return Some(format!("header of `{name}`"));
        }
        if off >= body && off < end {
            let content = data.get(body..end)?;
            let inner = tar_member_at(content, (off - body) as u64)
                .map(|m| format!(" :: {m}"))
                .unwrap_or_default();
            let what = match kind {
                b'L' => "GNU long name of the next member".to_owned(),
                b'x' | b'g' => "pax header".to_owned(),
                _ => format!("`{name}`"),
            };
            return Some(format!("{what}{inner}"));
        }
        match kind {
            b'L' => long_name = Some(cstr(data.get(body..end)?)),
            b'x' => {
                let text = String::from_utf8_lossy(data.get(body..end)?).into_owned();
                for line in text.lines() {
                    if let Some(p) = line.split_once(" path=").map(|(_, p)| p) {
                        long_name = Some(p.to_owned());
                    }
                }
            }
            _ => {}
        }
        pos = end.div_ceil(512) * 512;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_raw_base64_and_tails_across_chunks() {
        let c = Canary::new("A");
        let value = c.value.clone();
        let mut s = Scanner::new(vec![c]);
        let auth = base64(format!("gitlab-ci-token:{value}").as_bytes());
        let mut data = vec![b'x'; (8 << 20) - 10];
        data.extend_from_slice(value.as_bytes()); // straddles a chunk boundary
        data.extend_from_slice(b" Authorization: Basic ");
        data.extend_from_slice(&auth);
        data.extend_from_slice(b" ");
        data.extend_from_slice(&value.as_bytes()[5..]); // cut at the front
        s.scan_bytes("test", "mem", &data);
        let whats: Vec<&str> = s.hits.iter().map(|h| h.what.as_str()).collect();
        assert!(
            whats
                .iter()
                .any(|w| w.starts_with("token `A`") && w.ends_with("raw")),
            "{whats:?}"
        );
        assert!(
            whats
                .iter()
                .any(|w| w.starts_with("token `A`") && w.contains("base64")),
            "{whats:?}"
        );
        assert!(
            whats.iter().any(|w| w.starts_with("the end of token `A`")),
            "{whats:?}"
        );
        for h in &s.hits {
            assert!(!h.what.contains(&value) && !h.location.contains(&value));
        }
    }

    #[test]
    fn a_clean_stream_has_no_hits() {
        let mut s = Scanner::new(vec![Canary::new("A"), Canary::new("B")]);
        let data: Vec<u8> = (0..(20u32 << 20))
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        s.scan_bytes("test", "noise", &data);
        assert!(s.hits.is_empty());
    }

    /// Deep mode finds a token deflated in a wheel, in the wheel in a
    /// gzip'd tar (a layer blob) and in the wheel in a plain tar, and names
    /// the member; without deep mode the deflated token is not seen.
    #[test]
    fn deep_mode_finds_a_token_in_a_wheel_in_a_layer() {
        let c = Canary::new("W");
        let value = c.value.clone();
        let dir = tempfile::tempdir().unwrap();
        let script = "import gzip, io, sys, tarfile, zipfile\n\
            d, token = sys.argv[1], sys.argv[2]\n\
            whl = io.BytesIO()\n\
            with zipfile.ZipFile(whl, 'w', zipfile.ZIP_DEFLATED) as z:\n\
            \x20   z.writestr('pkg/_stolen.py', 'FOUND = %r\\n' % ([token] * 50))\n\
            open(d + '/pkg.whl', 'wb').write(whl.getvalue())\n\
            layer = io.BytesIO()\n\
            with tarfile.open(fileobj=layer, mode='w') as t:\n\
            \x20   i = tarfile.TarInfo('root/.cache/pkg.whl'); i.size = len(whl.getvalue())\n\
            \x20   t.addfile(i, io.BytesIO(whl.getvalue()))\n\
            open(d + '/layer.tar', 'wb').write(layer.getvalue())\n\
            open(d + '/blob', 'wb').write(gzip.compress(layer.getvalue()))\n";
        let status = Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(dir.path())
            .arg(&value)
            .status()
            .unwrap();
        assert!(status.success());
        let mut shallow = Scanner::new(vec![Canary {
            label: "W".into(),
            value: value.clone(),
        }]);
        shallow.scan_tree("t", dir.path());
        assert!(
            shallow.hits.is_empty(),
            "the token should be deflated: {}",
            shallow.summary("shallow")
        );
        let mut s = Scanner::new(vec![c]).deep();
        s.scan_tree("t", dir.path());
        let summary = s.summary("deep");
        for file in ["pkg.whl", "layer.tar", "blob"] {
            assert!(
                s.hits.iter().any(|h| h.location.contains(file)
                    && h.location.contains("pkg/_stolen.py")
                    && h.what.starts_with("token `W`")),
                "no hit in {file}: {summary}"
            );
        }
        assert_eq!(s.stats["t"].archives, 5, "{summary}");
        assert!(s.stats["t"].not_scanned.is_empty(), "{summary}");
        for h in &s.hits {
            assert!(!h.location.contains(&value));
        }
    }

    #[test]
    fn base64_core_matches_every_alignment() {
        let token = b"pyfrontleakcanaryXYZ0123";
        for pad in 0..3 {
            let mut input = b"ab"[..pad].to_vec();
            input.extend_from_slice(token);
            let enc = base64(&input);
            let core = base64_core(token, pad);
            assert!(memchr::memmem::find(&enc, &core).is_some(), "pad {pad}");
        }
    }
}
