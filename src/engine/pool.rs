//! The threads that run records: started when first needed, then kept for
//! the invocations that follow (with their buffers warm), and replaced when
//! one is left behind in a record that does not return. One set for the
//! process, whatever the number of engines: a function has one, a test
//! suite many.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, OnceLock};
use std::thread;

use super::lock;

/// Work for one thread.
pub(super) type Job = Box<dyn FnOnce() + Send + 'static>;

/// The threads' queue.
#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    wake: Condvar,
}

fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(Shared::default)
}

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    /// Threads waiting for a job.
    idle: usize,
}

/// Records run on these threads, not the caller's, so give them the main
/// thread's usual stack: a transform written and tested on the main thread
/// (deep recursion in a parser, say) must not overflow here.
const STACK_SIZE: usize = 8 * 1024 * 1024;

/// Queues `job`, starting a thread when none is waiting for it. A thread
/// still busy elsewhere (in a record past its deadline) is not counted on:
/// the job gets a new thread instead.
pub(super) fn submit(job: Job) {
    let shared = shared();
    let mut queue = lock(&shared.queue);
    queue.jobs.push_back(job);
    if queue.idle >= queue.jobs.len() {
        shared.wake.notify_one();
        return;
    }
    drop(queue);
    let started = thread::Builder::new()
        .name("firehose-transform".to_string())
        .stack_size(STACK_SIZE)
        .spawn(move || shared.serve());
    if let Err(error) = started {
        // The job waits for a thread to come free; the records it would run
        // fail at the deadline if none does.
        lambda_runtime::tracing::error!(%error, "cannot start a thread for the transform");
    }
}

impl Shared {
    fn serve(&self) {
        let mut queue = lock(&self.queue);
        loop {
            if let Some(job) = queue.jobs.pop_front() {
                drop(queue);
                job();
                queue = lock(&self.queue);
                continue;
            }
            queue.idle += 1;
            queue = self.wake.wait(queue).unwrap_or_else(|e| e.into_inner());
            queue.idle -= 1;
        }
    }
}
