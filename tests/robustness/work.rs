//! What a closure costs, counted instead of timed, so that a busy machine
//! cannot fail a test.
//!
//! - Allocations: the test binary's allocator counts, per thread, the
//!   allocations and the bytes asked for. The counts are exact and the same on
//!   every run, whatever the load. They see any super-linear step that
//!   allocates as it goes (copying a growing prefix, a list of lists).
//! - CPU time of the measuring thread: it does not grow while the thread waits
//!   for a core, so load changes it little. It is only ever compared with
//!   itself, between two sizes of one input ([`assert_scales_linearly`]): a
//!   quadratic scan that allocates nothing (a `Vec::contains` dedup) is
//!   invisible to the counts but multiplies this ratio.
//!
//! Only the measuring thread is counted: the code under test spawns no
//! threads (if it starts to, its work there goes unseen).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::mpsc;
use std::time::Duration;

/// The hang guard: no load makes a healthy run take this long, and the counts
/// (not this limit) are what catch a super-linear step.
const HANG: Duration = Duration::from_secs(120);

/// The smallest stack a parse should need. The frontend parses on the main
/// thread (8 MiB); a test thread's default is 2 MiB, so 2 MiB is the stricter
/// bound.
const STACK: usize = 2 << 20;

/// What the allocator was asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Allocated {
    /// `alloc`, `alloc_zeroed` and `realloc` calls.
    pub allocations: u64,
    /// The sizes those calls asked for; a `realloc` counts its new size, so a
    /// buffer grown by doubling to `n` bytes counts about `2n`.
    pub bytes: u64,
}

impl Allocated {
    fn since(self, start: Self) -> Self {
        Self {
            allocations: self.allocations - start.allocations,
            bytes: self.bytes - start.bytes,
        }
    }
}

thread_local! {
    // `const`-initialized and `Copy`: no lazy initialization and no
    // destructor, so the allocator can use it without allocating, recursing or
    // touching a torn-down value.
    static ALLOCATED: Cell<Allocated> = const {
        Cell::new(Allocated {
            allocations: 0,
            bytes: 0,
        })
    };
}

fn record(size: usize) {
    // `try_with` instead of `with`: an allocator must never panic.
    let _ = ALLOCATED.try_with(|cell| {
        let mut counts = cell.get();
        counts.allocations += 1;
        counts.bytes += size as u64;
        cell.set(counts);
    });
}

fn allocated_so_far() -> Allocated {
    ALLOCATED.with(Cell::get)
}

/// `System`, counting per thread.
struct Counting;

#[global_allocator]
static COUNTING: Counting = Counting;

// SAFETY: every call is forwarded unchanged to `System`; counting only touches
// a thread-local `Cell` that needs no allocation.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// The CPU time this thread has used, where the platform tells it.
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
fn thread_cpu_time() -> Option<Duration> {
    // `struct timespec` on 64-bit Linux: `time_t` and `long` are both 64-bit.
    #[repr(C)]
    struct Timespec {
        seconds: i64,
        nanoseconds: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, time: *mut Timespec) -> i32;
    }
    // `CLOCK_THREAD_CPUTIME_ID` in <linux/time.h>, the same on every arch.
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut time = Timespec {
        seconds: 0,
        nanoseconds: 0,
    };
    // SAFETY: `time` is a valid, writable `timespec`.
    let status = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut time) };
    let seconds = u64::try_from(time.seconds).ok()?;
    let nanoseconds = u32::try_from(time.nanoseconds).ok()?;
    (status == 0).then(|| Duration::new(seconds, nanoseconds))
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
fn thread_cpu_time() -> Option<Duration> {
    None
}

/// A closure's result and what it cost.
pub struct Measured<T> {
    pub value: T,
    pub allocated: Allocated,
    /// `None` where the platform has no per-thread CPU clock.
    pub cpu: Option<Duration>,
}

/// Runs `f` on a fresh thread with a [`STACK`]-byte stack and measures it. A
/// stack overflow aborts the whole test binary, which fails the run; a run
/// still going after [`HANG`] fails the test (the thread is abandoned; the
/// process ends it).
pub fn within<T: Send + 'static>(
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Measured<T> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name(what.to_owned())
        .stack_size(STACK)
        .spawn(move || {
            let (allocated, cpu) = (allocated_so_far(), thread_cpu_time());
            let value = f();
            let cpu = cpu.zip(thread_cpu_time()).map(|(start, end)| end - start);
            let allocated = allocated_so_far().since(allocated);
            let _ = tx.send(Measured {
                value,
                allocated,
                cpu,
            });
        })
        .unwrap();
    match rx.recv_timeout(HANG) {
        Ok(measured) => measured,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: still running after {HANG:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what}: panicked"),
    }
}

/// What a linear run may allocate: `fixed` for the rest of the spec, plus so
/// much per byte and per item of the big input.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    pub bytes_per_input_byte: u64,
    pub allocations_per_item: u64,
}

/// What any run may allocate besides its big input: parsing and planning a
/// small spec, rendering an error. Measured: 61 allocations and 19 KB for a
/// minimal spec, about 30 more allocations for a rendered error.
pub const FIXED: Allocated = Allocated {
    allocations: 1_000,
    bytes: 256 << 10,
};

/// Fails unless `allocated` stays within `budget` for an input of
/// `input_bytes` bytes holding `items` items, and prints the measured ratios
/// so that the budget can be recalibrated.
pub fn assert_linear(
    what: &str,
    allocated: Allocated,
    input_bytes: usize,
    items: usize,
    budget: Budget,
) {
    let (input_bytes, items) = (input_bytes as u64, items.max(1) as u64);
    #[allow(clippy::cast_precision_loss)] // printed only
    let ratio = |a: u64, b: u64| a as f64 / b as f64;
    let allocations = format!(
        "{} allocations for {items} items, {:.2} per item (bound {} + {} per item)",
        allocated.allocations,
        ratio(allocated.allocations, items),
        FIXED.allocations,
        budget.allocations_per_item,
    );
    let bytes = format!(
        "{} bytes for {input_bytes} input bytes, {:.2} per input byte (bound {} + {} per input byte)",
        allocated.bytes,
        ratio(allocated.bytes, input_bytes),
        FIXED.bytes,
        budget.bytes_per_input_byte,
    );
    eprintln!("{what}: {allocations}; {bytes}");
    assert!(
        allocated.allocations <= FIXED.allocations + budget.allocations_per_item * items,
        "{what}: {allocations}: super-linear"
    );
    assert!(
        allocated.bytes <= FIXED.bytes + budget.bytes_per_input_byte * input_bytes,
        "{what}: {bytes}: super-linear"
    );
}

/// The small run of [`assert_scales_linearly`] is this many times smaller.
pub const FACTOR: usize = 8;

/// How much the CPU time may grow from the small run to the big one: a linear
/// run grows about [`FACTOR`] times (measured 6.0 to 10.0), a quadratic one
/// `FACTOR²` = 64 times.
const MAX_CPU_GROWTH: f64 = 24.0;

/// How much the allocation count may grow: a linear run's grows at most
/// [`FACTOR`] times (measured 1.0 to 8.0), `n log n` about 10 times, a
/// quadratic one 64 times. The counts are exact, so this bound is tighter.
const MAX_ALLOCATION_GROWTH: f64 = 16.0;

/// Measurements of a closure whose CPU time can vary: a ratio above the bound
/// is measured again up to this many times before the test fails.
const ATTEMPTS: usize = 3;

/// Runs `run(size / FACTOR)` and `run(size)` and fails when the big run costs
/// super-linearly more: more than [`MAX_ALLOCATION_GROWTH`] times the
/// allocations or [`MAX_CPU_GROWTH`] times the CPU time of the small one.
/// Returns the big run.
///
/// Each run builds its own input outside the measured closure. The CPU check
/// takes the best of [`ATTEMPTS`] pairs: load can only make one of a pair
/// slower (a cache shared with other work), never a healthy run quadratic.
pub fn assert_scales_linearly<T>(
    what: &str,
    size: usize,
    run: impl Fn(usize) -> Measured<T>,
) -> Measured<T> {
    let mut growths = Vec::new();
    loop {
        let small = run(size / FACTOR);
        let big = run(size);
        #[allow(clippy::cast_precision_loss)] // a ratio
        let allocations =
            big.allocated.allocations as f64 / small.allocated.allocations.max(1) as f64;
        assert!(
            allocations <= MAX_ALLOCATION_GROWTH,
            "{what}: {FACTOR} times the input, {allocations:.1} times the allocations ({} then {})",
            small.allocated.allocations,
            big.allocated.allocations
        );
        let Some((small_cpu, big_cpu)) = small.cpu.zip(big.cpu) else {
            eprintln!("{what}: no per-thread CPU clock; CPU growth not checked");
            return big;
        };
        let growth = big_cpu.as_secs_f64() / small_cpu.as_secs_f64().max(1e-6);
        eprintln!(
            "{what}: {FACTOR} times the input: {allocations:.1} times the allocations, \
             {growth:.1} times the CPU time ({small_cpu:?} then {big_cpu:?}; bound {MAX_CPU_GROWTH})"
        );
        growths.push(growth);
        if growth <= MAX_CPU_GROWTH {
            return big;
        }
        assert!(
            growths.len() < ATTEMPTS,
            "{what}: {FACTOR} times the input took {growths:.1?} times the CPU time: super-linear"
        );
    }
}
