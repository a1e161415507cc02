//! The header Clew puts in front of wasmtime's serialized module (`.cwasm` files).
//!
//! Layout (little endian, 48 bytes):
//!
//! ```text
//! 0   8  magic "\0clewaot"
//! 8   4  format version (2; 1 had a byte-wise checksum)
//! 12  1  CPU profile (0 baseline, 1 avx2)
//! 13  1  flags: bit 0 set when the module carries DWARF (see [`Header::dwarf`]); other
//!        bits zero (a reader ignores them)
//! 14  2  zero
//! 16  16 wasmtime version, NUL padded ("48.0.8")
//! 32  8  payload length
//! 40  8  FNV-1a 64 of the payload, word-wise ([`fnv1a64`])
//! 48     payload: wasmtime's ELF artifact
//! ```
//!
//! The checksum guards against accidents (truncation, corruption, the wrong file), not
//! against attacks: a `.cwasm` is native code and must come from a trusted `clew compile`.

use crate::{CpuProfile, WASMTIME_VERSION};
use alloc::vec::Vec;
use core::fmt;

/// The magic bytes at the start of every Clew `.cwasm`.
pub const MAGIC: &[u8; 8] = b"\0clewaot";
/// The header format version.
pub const FORMAT_VERSION: u32 = 2;
/// Header size in bytes.
pub const HEADER_LEN: usize = 48;

/// Why an artifact was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeaderError {
    /// Does not start with [`MAGIC`] (not a Clew `.cwasm`).
    NotArtifact,
    /// Made by another header format.
    Format(u32),
    /// Made by another wasmtime version.
    Version(alloc::string::String),
    /// Unknown CPU profile byte.
    Profile(u8),
    /// Shorter than the header says.
    Truncated,
    /// The checksum does not match.
    Corrupt,
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderError::NotArtifact => f.write_str("not a Clew precompiled module (.cwasm)"),
            HeaderError::Format(v) => write!(
                f,
                "precompiled module has header format {v}, this Clew reads {FORMAT_VERSION}: recompile it with `clew compile`"
            ),
            HeaderError::Version(v) => write!(
                f,
                "precompiled module was made by wasmtime {v}, this Clew runs {WASMTIME_VERSION}: recompile it with `clew compile`"
            ),
            HeaderError::Profile(p) => write!(f, "precompiled module has unknown CPU profile {p}"),
            HeaderError::Truncated => f.write_str("precompiled module is truncated"),
            HeaderError::Corrupt => f.write_str("precompiled module is corrupt (checksum mismatch)"),
        }
    }
}

/// What a valid header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// The profile the code was compiled for.
    pub profile: CpuProfile,
    /// The module compiled carries DWARF (`trap_site::has_dwarf`): the kernel's wasmtime
    /// cannot tell (it has no public accessor for it, and its own backtrace note needs
    /// std), so traps end their backtrace with wasmtime's note only through this flag.
    /// Artifacts written before the flag existed read as `false`.
    pub dwarf: bool,
}

/// Bit of the flags byte (offset 13) set for [`Header::dwarf`].
const FLAG_DWARF: u8 = 1;

/// FNV-1a, 64 bits, over little-endian 8-byte words (then the tail bytes one by one): the
/// payload checksum, and the kernel's key for loaded programs (`process::cache`).
/// Word-wise because it runs over the whole artifact on every load, in the guest under TCG
/// too: byte-wise, 220 MB (YoWASP's yosys) took 0.3 s there; word-wise it takes 0.05 s.
pub fn fnv1a64(data: &[u8]) -> u64 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut words = data.chunks_exact(8);
    for w in &mut words {
        let mut word = [0u8; 8];
        word.copy_from_slice(w);
        h = (h ^ u64::from_le_bytes(word)).wrapping_mul(PRIME);
    }
    for &b in words.remainder() {
        h = (h ^ u64::from(b)).wrapping_mul(PRIME);
    }
    h
}

/// Whether `bytes` start like a Clew `.cwasm` (for engine selection by content).
pub fn is_artifact(bytes: &[u8]) -> bool {
    bytes.len() >= MAGIC.len() && &bytes[..MAGIC.len()] == MAGIC
}

/// Prefixes `payload` (wasmtime's serialized module) with a header.
pub fn wrap(header: Header, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    let flags = if header.dwarf { FLAG_DWARF } else { 0 };
    out.extend_from_slice(&[header.profile.code(), flags, 0, 0]);
    let mut version = [0u8; 16];
    let v = WASMTIME_VERSION.as_bytes();
    version[..v.len()].copy_from_slice(v);
    out.extend_from_slice(&version);
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&fnv1a64(payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// Checks the header of `bytes` and returns it with the payload.
pub fn unwrap(bytes: &[u8]) -> Result<(Header, &[u8]), HeaderError> {
    if !is_artifact(bytes) {
        return Err(HeaderError::NotArtifact);
    }
    if bytes.len() < HEADER_LEN {
        return Err(HeaderError::Truncated);
    }
    let format = u32_at(bytes, 8);
    if format != FORMAT_VERSION {
        return Err(HeaderError::Format(format));
    }
    let version = &bytes[16..32];
    let end = version.iter().position(|&b| b == 0).unwrap_or(16);
    if &version[..end] != WASMTIME_VERSION.as_bytes() {
        return Err(HeaderError::Version(
            alloc::string::String::from_utf8_lossy(&version[..end]).into_owned(),
        ));
    }
    let profile = CpuProfile::from_code(bytes[12]).ok_or(HeaderError::Profile(bytes[12]))?;
    let len = u64_at(bytes, 32);
    let payload = &bytes[HEADER_LEN..];
    if (payload.len() as u64) < len {
        return Err(HeaderError::Truncated);
    }
    if payload.len() as u64 != len || fnv1a64(payload) != u64_at(bytes, 40) {
        return Err(HeaderError::Corrupt);
    }
    let dwarf = bytes[13] & FLAG_DWARF != 0;
    Ok((Header { profile, dwarf }, payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for dwarf in [false, true] {
            let header = Header {
                profile: CpuProfile::Avx2,
                dwarf,
            };
            let a = wrap(header, b"payload");
            let (h, p) = unwrap(&a).expect("valid");
            assert_eq!(h, header);
            assert_eq!(p, b"payload");
        }
        // An artifact from before the flags byte (all zero there) has no DWARF.
        let mut old = wrap(
            Header {
                profile: CpuProfile::Baseline,
                dwarf: true,
            },
            b"payload",
        );
        old[13] = 0;
        assert!(!unwrap(&old).expect("valid").0.dwarf);
    }

    #[test]
    fn refusals() {
        let a = wrap(
            Header {
                profile: CpuProfile::Baseline,
                dwarf: false,
            },
            b"payload bytes",
        );
        assert_eq!(unwrap(b"\0asm\x01\0\0\0"), Err(HeaderError::NotArtifact));
        assert_eq!(unwrap(&a[..20]), Err(HeaderError::Truncated));
        assert_eq!(unwrap(&a[..a.len() - 1]), Err(HeaderError::Truncated));
        let mut c = a.clone();
        let last = c.len() - 1;
        c[last] ^= 1;
        assert_eq!(unwrap(&c), Err(HeaderError::Corrupt));
        // Inside a whole word of the payload (the checksum takes 8 bytes at a time).
        for at in [HEADER_LEN, HEADER_LEN + 3, HEADER_LEN + 7] {
            let mut w = a.clone();
            w[at] ^= 0x80;
            assert_eq!(unwrap(&w), Err(HeaderError::Corrupt), "byte {at}");
        }
        // Two words swapped.
        let two = wrap(
            Header {
                profile: CpuProfile::Baseline,
                dwarf: false,
            },
            b"abcdefgh12345678",
        );
        let mut s = two.clone();
        s[HEADER_LEN..].rotate_left(8);
        assert_eq!(unwrap(&s), Err(HeaderError::Corrupt));
        // An artifact of header format 1 (byte-wise checksum) is refused by its version.
        let mut old = two;
        old[8] = 1;
        assert_eq!(unwrap(&old), Err(HeaderError::Format(1)));
        let mut v = a.clone();
        v[16] = b'9';
        assert!(matches!(unwrap(&v), Err(HeaderError::Version(_))));
        let mut p = a.clone();
        p[12] = 7;
        assert_eq!(unwrap(&p), Err(HeaderError::Profile(7)));
        let mut f = a;
        f[8] = 9;
        assert_eq!(unwrap(&f), Err(HeaderError::Format(9)));
    }
}
