//! The timing log's gateway calls: each call's name, start and end since
//! the frontend started, and how many of them ran one after another before
//! the first final `Solve` (issue 13 wants at most 4). Recorded always
//! (a few entries), printed only when `PYFRONT_TIMING=1` asks.

use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The name of the final solves (one per platform) in the trace.
pub(super) const FINAL_SOLVE: &str = "Solve image";

struct Call {
    name: String,
    start: Duration,
    end: Duration,
}

pub(super) struct Trace {
    started: Instant,
    calls: Mutex<Vec<Call>>,
}

impl Trace {
    pub(super) fn new(started: Instant) -> Self {
        Self {
            started,
            calls: Mutex::new(Vec::new()),
        }
    }

    /// Runs the gateway call `call` and records it as `name`.
    pub(super) async fn call<T>(
        &self,
        name: impl Into<String>,
        call: impl Future<Output = T>,
    ) -> T {
        let start = self.started.elapsed();
        let out = call.await;
        let end = self.started.elapsed();
        self.record(name.into(), start, end);
        out
    }

    fn record(&self, name: String, start: Duration, end: Duration) {
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(Call { name, start, end });
        }
    }

    /// The length of the longest chain of calls, each started after the
    /// one before it ended, among the calls that ended before the first
    /// final `Solve` started (all calls when there is none): the sequential
    /// gateway rounds the build waited for.
    pub(super) fn rounds_before_final_solve(&self) -> usize {
        let Ok(calls) = self.calls.lock() else {
            return 0;
        };
        let cutoff = calls
            .iter()
            .filter(|c| c.name.starts_with(FINAL_SOLVE))
            .map(|c| c.start)
            .min();
        let mut before: Vec<&Call> = calls
            .iter()
            .filter(|c| cutoff.is_none_or(|cut| c.end <= cut))
            .collect();
        before.sort_by_key(|c| c.end);
        // depth[i]: the longest chain that ends with before[i].
        let mut depth = vec![0usize; before.len()];
        for i in 0..before.len() {
            let prior = (0..i)
                .filter(|&j| before[j].end <= before[i].start)
                .map(|j| depth[j])
                .max()
                .unwrap_or(0);
            depth[i] = prior + 1;
        }
        depth.into_iter().max().unwrap_or(0)
    }

    /// The timing log's lines, in the order the calls started.
    pub(super) fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if let Ok(calls) = self.calls.lock() {
            let mut sorted: Vec<&Call> = calls.iter().collect();
            sorted.sort_by_key(|c| c.start);
            lines.extend(sorted.iter().map(|c| {
                format!(
                    "pyfront: timing: gateway call {} from {:.3} ms to {:.3} ms",
                    crate::redact::Redacted::new(c.name.clone()).into_string(),
                    c.start.as_secs_f64() * 1000.0,
                    c.end.as_secs_f64() * 1000.0,
                )
            }));
        }
        lines.push(format!(
            "pyfront: timing: {} sequential gateway rounds before the first final Solve",
            self.rounds_before_final_solve()
        ));
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace(calls: &[(&str, u64, u64)]) -> Trace {
        let trace = Trace::new(Instant::now());
        for &(name, start, end) in calls {
            trace.record(
                name.to_owned(),
                Duration::from_millis(start),
                Duration::from_millis(end),
            );
        }
        trace
    }

    #[test]
    fn overlapping_calls_are_one_round() {
        // The critical path issue 13 asks for: Ping ∥ spec solve, spec
        // ReadFile, context solve ∥ image configs, ReadFiles, then Solve.
        let t = trace(&[
            ("Ping", 0, 2),
            ("Solve load pyfront.toml", 0, 3),
            ("ReadFile pyfront.toml", 3, 4),
            ("Solve load context", 4, 6),
            ("ResolveImageConfig python", 4, 9),
            ("ReadFile requirements.txt", 6, 7),
            ("ReadFile .dockerignore", 6, 7),
            ("Solve image linux/amd64", 9, 20),
            ("Return", 20, 21),
        ]);
        assert_eq!(t.rounds_before_final_solve(), 4);
    }

    #[test]
    fn calls_in_turn_are_one_round_each() {
        let t = trace(&[
            ("Ping", 0, 1),
            ("Solve load pyfront.toml", 1, 2),
            ("ReadFile pyfront.toml", 2, 3),
            ("Solve load context", 3, 4),
            ("ReadFile requirements.txt", 4, 5),
            ("ResolveImageConfig python", 5, 6),
            ("Solve image linux/amd64", 6, 7),
        ]);
        assert_eq!(t.rounds_before_final_solve(), 6);
        let lines = t.lines();
        assert_eq!(
            lines[0],
            "pyfront: timing: gateway call Ping from 0.000 ms to 1.000 ms"
        );
        assert_eq!(
            lines.last().unwrap(),
            "pyfront: timing: 6 sequential gateway rounds before the first final Solve"
        );
    }

    #[test]
    fn without_a_final_solve_every_call_counts() {
        let t = trace(&[("Ping", 0, 1), ("Solve load pyfront.toml", 0, 2)]);
        assert_eq!(t.rounds_before_final_solve(), 1);
    }
}
