//! Reading an event file without copying it: mapped into memory, its pages
//! entered in one system call.
//!
//! `fs::read` of a 6 MB event copies it from the page cache into a fresh
//! buffer, whose 1,500 pages then fault in one at a time: a quarter of the
//! page faults of `apachelog-to-json --event`, and page faults were half of
//! its CPU time. A private read-only mapping with `MAP_POPULATE` enters the
//! page cache's own pages in the same call, with no copy and no fault.
//!
//! The price of a mapping: should another process truncate the file while it
//! is read, the process gets `SIGBUS`. Local mode reads event files written
//! before it starts; anything other than a regular file is read as before.

use std::fs::File;
use std::io;
use std::path::Path;

use bytes::Bytes;

/// The contents of the file at `path`.
pub fn read(path: impl AsRef<Path>) -> io::Result<Bytes> {
    let file = File::open(path)?;
    let metadata = file.metadata()?;
    #[cfg(target_os = "linux")]
    if metadata.is_file() && metadata.len() > 0 {
        if let Ok(len) = usize::try_from(metadata.len()) {
            if let Some(map) = Map::new(&file, len) {
                return Ok(Bytes::from_owner(map));
            }
        }
    }
    let mut contents = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    io::Read::read_to_end(&mut &file, &mut contents)?;
    Ok(contents.into())
}

/// A read-only private mapping of a whole file, unmapped when dropped.
#[cfg(target_os = "linux")]
struct Map {
    ptr: std::ptr::NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is read-only and owned by this value alone; reading it
// from any thread is sound.
#[cfg(target_os = "linux")]
unsafe impl Send for Map {}
#[cfg(target_os = "linux")]
unsafe impl Sync for Map {}

#[cfg(target_os = "linux")]
impl Map {
    /// Maps the first `len` bytes of `file`; none if the system refuses (the
    /// caller then reads the file instead).
    fn new(file: &File, len: usize) -> Option<Map> {
        use std::os::fd::AsRawFd;
        // SAFETY: a new mapping of `len` bytes of an open file, at an
        // address the kernel chooses; nothing else refers to it.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_POPULATE,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return None;
        }
        std::ptr::NonNull::new(ptr.cast()).map(|ptr| Map { ptr, len })
    }
}

#[cfg(target_os = "linux")]
impl AsRef<[u8]> for Map {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: `ptr` maps `len` readable bytes until `self` drops.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

#[cfg(target_os = "linux")]
impl Drop for Map {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`, unmapped once; no slice of it
        // outlives `self` (`Bytes` drops its owner last).
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), self.len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_reads_whole_and_an_empty_one_reads_empty() {
        let dir = std::env::temp_dir().join(format!("mapped-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("event.json");
        let contents: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &contents).unwrap();
        assert_eq!(read(&path).unwrap().as_ref(), contents.as_slice());
        std::fs::write(&path, b"").unwrap();
        assert!(read(&path).unwrap().is_empty());
        let missing = read(dir.join("missing.json")).unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
