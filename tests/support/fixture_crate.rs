//! The crates under `fixtures/` that stand for a user's own crate depending
//! on this one (by path), built with cargo into `target/NAME` (kept between
//! runs: the first build compiles the dependencies, later ones only the
//! crates that changed). Each has its own workspace; its lock file is the
//! main crate's, so the versions are those already downloaded.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct FixtureCrate {
    /// Its directory under `fixtures/` (and under `target/`).
    pub name: &'static str,
    /// The binary it builds.
    pub binary: &'static str,
}

impl FixtureCrate {
    pub fn dir(&self) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(self.name)
    }

    pub fn target_dir(&self) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target")
            .join(self.name)
    }

    /// `cargo`, in the crate's directory, without the outer build's settings
    /// (they are not the user's).
    pub fn cargo(&self) -> Command {
        let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        command
            .arg("--color=never")
            .current_dir(self.dir())
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CARGO_BUILD_TARGET_DIR");
        command
    }

    /// Gives the crate the main crate's lock file.
    pub fn prepare(&self) {
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock"),
            self.dir().join("Cargo.lock"),
        )
        .unwrap_or_else(|e| panic!("copy Cargo.lock into fixtures/{}: {e}", self.name));
    }

    /// Builds the crate (debug) and returns its binary.
    pub fn build(&self) -> PathBuf {
        self.prepare();
        let output = self
            .cargo()
            .args(["build", "--target-dir"])
            .arg(self.target_dir())
            .output()
            .expect("cargo runs");
        assert!(
            output.status.success(),
            "building fixtures/{} failed:\n{}",
            self.name,
            String::from_utf8_lossy(&output.stderr)
        );
        self.target_dir().join("debug").join(self.binary)
    }
}
