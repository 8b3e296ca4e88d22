//! Keeping freed memory for the next invocation, and entering a big
//! buffer's pages at once.
//!
//! Each invocation allocates a few buffers of the event's size (the request
//! body, the response JSON, the records), then frees them. glibc's allocator
//! serves blocks that large with `mmap` and hands them back with `munmap`
//! (and trims its heap back to the system past 128 KiB free), so every warm
//! invocation faults its multi-megabyte buffers in afresh, page by page:
//! measured at about half of the time of a 6 MB invocation of the JSON
//! pipeline (README, Performance). Raising both thresholds at start-up keeps
//! the memory in the process, where the next invocation reuses it.

use std::sync::atomic::{AtomicBool, Ordering};

/// Blocks up to this size come from the heap rather than their own `mmap`
/// (glibc caps the threshold at 32 MiB on 64-bit systems): a whole Lambda
/// request or response fits.
pub const MMAP_THRESHOLD: i32 = 32 << 20;
/// Free memory at the top of the heap stays in the process up to this much.
pub const TRIM_THRESHOLD: i32 = 256 << 20;

/// Tells the C allocator to keep freed memory for reuse (glibc on Linux;
/// nowhere else does anything). [`run`](crate::run) calls it when it starts
/// serving Lambda invocations, not in local mode: one invocation has nothing
/// to reuse, and keeping its freed buffers raised the peak RSS of
/// `apachelog-to-json` on a 6 MB event from 28.4 to 34.1 MiB. Call it at the start of a program of your own that processes large batches
/// one after another with an [`Engine`](crate::Engine). Returns whether the
/// allocator took both settings.
///
/// ```
/// let kept = firehose_transform::runtime::keep_freed_memory();
/// assert_eq!(kept, cfg!(all(target_os = "linux", target_env = "gnu")));
/// ```
pub fn keep_freed_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only sets glibc malloc parameters (it takes the
        // allocator's own lock); both values are within glibc's documented
        // ranges, and any allocation before or after stays valid.
        let kept = unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
                && libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
        };
        MEMORY_KEPT.store(kept, Ordering::Relaxed);
        kept
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    false
}

/// Whether [`keep_freed_memory`] took: big buffers are then mostly memory
/// an earlier invocation already entered, and populating them again costs
/// a walk over their pages (3% of a warm 6 MB Apache invocation) for no
/// fault saved.
static MEMORY_KEPT: AtomicBool = AtomicBool::new(false);

/// Enters the pages of `buffer`'s spare capacity into the process in one
/// system call (Linux 5.14's `MADV_POPULATE_WRITE`), rather than one page
/// fault for each page as they are first written. For buffers of a megabyte
/// or more that will be written whole, unless freed memory is kept;
/// elsewhere, and where the kernel refuses, nothing happens (the pages fault
/// in as usual).
pub(crate) fn populate_spare_capacity(buffer: &mut Vec<u8>) {
    #[cfg(target_os = "linux")]
    if !MEMORY_KEPT.load(Ordering::Relaxed) {
        const PAGE: usize = 4096;
        const MIN_LEN: usize = 1 << 20;
        const MADV_POPULATE_WRITE: libc::c_int = 23;
        let spare = buffer.spare_capacity_mut();
        let start = spare.as_mut_ptr() as usize;
        let first_page = start.next_multiple_of(PAGE);
        let end = (start + spare.len()) & !(PAGE - 1);
        if end > first_page && end - first_page >= MIN_LEN {
            // SAFETY: the range is whole pages inside the buffer's own
            // allocation; populating them changes no byte of it.
            unsafe {
                libc::madvise(
                    first_page as *mut libc::c_void,
                    end - first_page,
                    MADV_POPULATE_WRITE,
                );
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = buffer;
}
