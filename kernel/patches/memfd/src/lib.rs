//! Stand-in for the `memfd` crate (0.6), patched in by the kernel workspace.
//!
//! wasmtime 48 depends on `memfd` for `target_os = "linux"`, which the Clew kernel's build
//! target claims; the real crate pulls `rustix` with std, which cannot link into a
//! bare-metal binary (`duplicate lang item`). In the kernel (no features) this crate is
//! empty: wasmtime's custom platform never uses it.
//!
//! The kernel's build script also links wasmtime, with std, on the build host (it
//! precompiles test modules with Cranelift), and the patch applies to that copy too. With
//! the `std` feature (enabled only through the kernel's build-dependencies) this crate
//! offers the API surface wasmtime uses, and `MemfdOptions::create` always reports
//! `Unsupported`, which wasmtime handles by not using copy-on-write memory images (the
//! build script only compiles modules; it never instantiates them).
#![no_std]

#[cfg(feature = "std")]
extern crate std;

#[cfg(feature = "std")]
mod imp {
    use core::fmt;
    use std::fs::File;
    use std::io;

    /// Never constructed: `MemfdOptions::create` always fails.
    #[derive(Debug)]
    pub struct Memfd {
        file: File,
    }

    impl Memfd {
        /// The file behind the memfd.
        pub fn as_file(&self) -> &File {
            &self.file
        }

        /// Adds seals (never reached).
        pub fn add_seals(&self, _seals: &[FileSeal]) -> Result<(), Error> {
            Ok(())
        }
    }

    /// File seals.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum FileSeal {
        /// F_SEAL_SEAL.
        SealSeal,
        /// F_SEAL_SHRINK.
        SealShrink,
        /// F_SEAL_GROW.
        SealGrow,
        /// F_SEAL_WRITE.
        SealWrite,
    }

    /// Errors, as in the real crate.
    #[derive(Debug)]
    pub enum Error {
        /// Creating the memfd failed.
        Create(io::Error),
        /// Adding seals failed.
        AddSeals(io::Error),
    }

    impl fmt::Display for Error {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                Error::Create(e) => write!(f, "memfd create: {e}"),
                Error::AddSeals(e) => write!(f, "memfd add seals: {e}"),
            }
        }
    }

    impl std::error::Error for Error {}

    /// Builder of memfds.
    #[derive(Clone, Debug, Default)]
    pub struct MemfdOptions;

    impl MemfdOptions {
        /// Default options.
        pub fn new() -> Self {
            MemfdOptions
        }

        /// Sealing on or off (ignored).
        pub fn allow_sealing(self, _value: bool) -> Self {
            self
        }

        /// Always `Unsupported`: no memfds here.
        pub fn create<T: AsRef<str>>(&self, _name: T) -> Result<Memfd, Error> {
            Err(Error::Create(io::Error::from(io::ErrorKind::Unsupported)))
        }
    }
}

#[cfg(feature = "std")]
pub use imp::*;
