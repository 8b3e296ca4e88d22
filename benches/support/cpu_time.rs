//! Criterion measurement of the benchmark process's CPU time (Linux
//! `CLOCK_PROCESS_CPUTIME_ID`: every thread's, the engine's own included;
//! user and system time, so page faults count), not wall-clock time: figures
//! per core even on a machine shared with other work (the development
//! machine has 2 vCPUs and runs several builds at once). Elsewhere, and on
//! other systems, wall-clock time.

use criterion::measurement::{Measurement, ValueFormatter, WallTime};

/// The process's CPU time in nanoseconds (all its threads: the engine runs
/// records on threads of its own), where the system gives it precisely
/// (`clock_gettime(CLOCK_PROCESS_CPUTIME_ID)`; `/proc`'s stat is only
/// updated at scheduler ticks, too coarse for short samples).
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
fn cpu_ns() -> Option<u64> {
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, time: *mut Timespec) -> i32;
    }
    const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
    let mut time = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime (in the C library std links on Linux) writes one
    // timespec, whose layout on 64-bit Linux this struct matches, through the
    // valid pointer given, and keeps nothing.
    let status = unsafe { clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &mut time) };
    (status == 0).then(|| time.tv_sec as u64 * 1_000_000_000 + time.tv_nsec as u64)
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
fn cpu_ns() -> Option<u64> {
    None
}

/// Criterion measurement: CPU time of the benchmark process (wall-clock time
/// where it is not available).
pub struct CpuTime;

impl Measurement for CpuTime {
    type Intermediate = (Option<u64>, std::time::Instant);
    type Value = f64;

    fn start(&self) -> Self::Intermediate {
        (cpu_ns(), std::time::Instant::now())
    }

    fn end(&self, (cpu, wall): Self::Intermediate) -> f64 {
        match (cpu, cpu_ns()) {
            (Some(start), Some(end)) => end.saturating_sub(start) as f64,
            _ => wall.elapsed().as_nanos() as f64,
        }
    }

    fn add(&self, v1: &f64, v2: &f64) -> f64 {
        v1 + v2
    }

    fn zero(&self) -> f64 {
        0.0
    }

    fn to_f64(&self, value: &f64) -> f64 {
        *value
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        // Nanoseconds, like wall-clock time: the same units and throughput.
        WallTime.formatter()
    }
}
