//! The Lambda builds: `cargo lambda build --release` of `process-record` for
//! arm64 (the template's default) and x86_64, with zig from PyPI
//! (`pip install cargo-lambda==1.9.2 ziglang`), each in its own target
//! directory under `target/`; the packaged `bootstrap` must be an ELF
//! executable for that machine (read from its header, no `file` needed).
//!
//! The arm64 build needs Rust's standard library for aarch64-unknown-linux-gnu:
//! `rustup target add aarch64-unknown-linux-gnu`, or, where rustup cannot
//! download it (this project's CI), Debian's `rustc-web cargo-web
//! libstd-rust-web-dev:arm64` linked as a rustup toolchain; the toolchain is
//! named by `LAMBDA_ARM64_TOOLCHAIN` (see `.ci/run`).

use std::path::{Path, PathBuf};
use std::process::Command;

const BINARY: &str = "process-record";
/// ELF `e_machine` values.
const EM_X86_64: u16 = 62;
const EM_AARCH64: u16 = 183;

fn build(arch_flag: &str, dir: &str, toolchain: Option<String>) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target_dir = root.join("target").join(dir);
    let mut command = Command::new("cargo");
    if let Some(toolchain) = &toolchain {
        command.env("RUSTUP_TOOLCHAIN", toolchain);
    } else {
        command.env_remove("RUSTUP_TOOLCHAIN");
    }
    // The outer cargo's variables would point the inner one at itself.
    for name in [
        "CARGO",
        "RUSTC",
        "RUSTDOC",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
    ] {
        command.env_remove(name);
    }
    let output = command
        .args(["lambda", "build", "--release", arch_flag, "--bin", BINARY])
        .env("CARGO_TARGET_DIR", &target_dir)
        .current_dir(root)
        .output()
        .unwrap_or_else(|error| panic!("cannot run cargo: {error}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "`cargo lambda build --release {arch_flag} --bin {BINARY}` failed ({}). It needs \
         cargo-lambda and zig: `pip install cargo-lambda==1.9.2 ziglang==0.17.1`{}\n{stderr}",
        output.status,
        if arch_flag == "--arm64" {
            ", and the aarch64 standard library (see this file's header and .ci/run)"
        } else {
            ""
        }
    );
    target_dir.join("lambda").join(BINARY).join("bootstrap")
}

/// (class, data, type, machine) of an ELF header.
fn elf_header(path: &Path) -> (u8, u8, u16, u16) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        bytes.len() > 20 && bytes[..4] == [0x7f, b'E', b'L', b'F'],
        "{} is not an ELF file",
        path.display()
    );
    assert_eq!(bytes[5], 1, "{}: not little-endian", path.display());
    let u16_at = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]);
    (bytes[4], bytes[5], u16_at(16), u16_at(18))
}

fn check(bootstrap: &Path, machine: u16) {
    let (class, _, kind, found) = elf_header(bootstrap);
    assert_eq!(class, 2, "{}: not a 64-bit ELF", bootstrap.display());
    // ET_EXEC or ET_DYN (position-independent executables are ET_DYN).
    assert!(
        kind == 2 || kind == 3,
        "{}: ELF type {kind} is not an executable",
        bootstrap.display()
    );
    assert_eq!(found, machine, "{}: wrong machine", bootstrap.display());
}

#[test]
fn arm64_bootstrap_is_an_aarch64_elf() {
    let toolchain = std::env::var("LAMBDA_ARM64_TOOLCHAIN").ok();
    check(&build("--arm64", "lambda-arm64", toolchain), EM_AARCH64);
}

#[test]
fn x86_64_bootstrap_is_an_x86_64_elf() {
    check(&build("--x86-64", "lambda-x86_64", None), EM_X86_64);
}

#[test]
fn the_elf_reader_refuses_what_is_not_elf() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    assert!(std::panic::catch_unwind(|| elf_header(&path)).is_err());
}
