//! Bounds-checked access to a guest's linear memory.
//!
//! [`GuestMemory`] is the only way WASI code touches guest memory: every access names a
//! guest address and a length, and comes back as [`MemError`] when the range is not inside
//! the memory (or, for typed values, not naturally aligned, as wiggle requires per the witx
//! docs: "If a misaligned pointer is passed to a function, the function shall trap").
//! The engine adapters implement it for the byte slice of the instance's exported `memory`.

use crate::types::Errno;
use alloc::string::String;
use alloc::vec::Vec;

/// A guest pointer was out of bounds or misaligned. The adapters turn this into a trap
/// (as wasmtime does) or `EFAULT`, per [`crate::BadPointer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemError;

/// The longest path a WASI call takes, in bytes: Linux's `PATH_MAX` (4096, counting the
/// NUL C adds), so that `wasmtime run` on Linux and Clew answer `ENAMETOOLONG` alike.
pub const MAX_PATH_BYTES: usize = 4095;

/// Guest linear memory, bounds-checked.
pub trait GuestMemory {
    /// The bytes `[ptr, ptr + len)`.
    fn slice(&self, ptr: u32, len: u32) -> Result<&[u8], MemError>;
    /// The bytes `[ptr, ptr + len)`, mutable.
    fn slice_mut(&mut self, ptr: u32, len: u32) -> Result<&mut [u8], MemError>;
}

impl GuestMemory for [u8] {
    fn slice(&self, ptr: u32, len: u32) -> Result<&[u8], MemError> {
        let start = ptr as usize;
        let end = start.checked_add(len as usize).ok_or(MemError)?;
        self.get(start..end).ok_or(MemError)
    }
    fn slice_mut(&mut self, ptr: u32, len: u32) -> Result<&mut [u8], MemError> {
        let start = ptr as usize;
        let end = start.checked_add(len as usize).ok_or(MemError)?;
        self.get_mut(start..end).ok_or(MemError)
    }
}

impl GuestMemory for &mut [u8] {
    fn slice(&self, ptr: u32, len: u32) -> Result<&[u8], MemError> {
        (**self).slice(ptr, len)
    }
    fn slice_mut(&mut self, ptr: u32, len: u32) -> Result<&mut [u8], MemError> {
        (**self).slice_mut(ptr, len)
    }
}

impl GuestMemory for Vec<u8> {
    fn slice(&self, ptr: u32, len: u32) -> Result<&[u8], MemError> {
        self.as_slice().slice(ptr, len)
    }
    fn slice_mut(&mut self, ptr: u32, len: u32) -> Result<&mut [u8], MemError> {
        self.as_mut_slice().slice_mut(ptr, len)
    }
}

fn aligned(ptr: u32, align: u32) -> Result<(), MemError> {
    if ptr.is_multiple_of(align) {
        Ok(())
    } else {
        Err(MemError)
    }
}

/// Typed helpers over [`GuestMemory`] (little-endian, natural alignment).
pub trait GuestMemoryExt: GuestMemory {
    /// Reads a `u8`.
    fn read_u8(&self, ptr: u32) -> Result<u8, MemError> {
        Ok(self.slice(ptr, 1)?[0])
    }
    /// Reads a `u16` (2-aligned).
    fn read_u16(&self, ptr: u32) -> Result<u16, MemError> {
        aligned(ptr, 2)?;
        let b = self.slice(ptr, 2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    /// Reads a `u32` (4-aligned).
    fn read_u32(&self, ptr: u32) -> Result<u32, MemError> {
        aligned(ptr, 4)?;
        let b = self.slice(ptr, 4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// Reads a `u64` (8-aligned).
    fn read_u64(&self, ptr: u32) -> Result<u64, MemError> {
        aligned(ptr, 8)?;
        let b = self.slice(ptr, 8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
    /// Writes bytes at `ptr`.
    fn write_bytes(&mut self, ptr: u32, data: &[u8]) -> Result<(), MemError> {
        let len = u32::try_from(data.len()).map_err(|_| MemError)?;
        self.slice_mut(ptr, len)?.copy_from_slice(data);
        Ok(())
    }
    /// Writes a `u8`.
    fn write_u8(&mut self, ptr: u32, v: u8) -> Result<(), MemError> {
        self.write_bytes(ptr, &[v])
    }
    /// Writes a `u16` (2-aligned).
    fn write_u16(&mut self, ptr: u32, v: u16) -> Result<(), MemError> {
        aligned(ptr, 2)?;
        self.write_bytes(ptr, &v.to_le_bytes())
    }
    /// Writes a `u32` (4-aligned).
    fn write_u32(&mut self, ptr: u32, v: u32) -> Result<(), MemError> {
        aligned(ptr, 4)?;
        self.write_bytes(ptr, &v.to_le_bytes())
    }
    /// Writes a `u64` (8-aligned).
    fn write_u64(&mut self, ptr: u32, v: u64) -> Result<(), MemError> {
        aligned(ptr, 8)?;
        self.write_bytes(ptr, &v.to_le_bytes())
    }
    /// Reads a witx `string` (`ptr`, `len`), in preview1 always a path: UTF-8 required,
    /// else `EILSEQ`; longer than [`MAX_PATH_BYTES`], `ENAMETOOLONG` (checked after the
    /// bounds, so a bad pointer is still `EFAULT`). Without the limit, one call naming
    /// hundreds of MiB of linear memory as a path made the kernel copy all of it.
    fn read_str(&self, ptr: u32, len: u32) -> Result<String, crate::Error> {
        let bytes = self.slice(ptr, len)?;
        if bytes.len() > MAX_PATH_BYTES {
            return Err(Errno::Nametoolong.into());
        }
        match core::str::from_utf8(bytes) {
            Ok(s) => Ok(String::from(s)),
            Err(_) => Err(Errno::Ilseq.into()),
        }
    }
    /// An `iovec_array`/`ciovec_array` (`ptr`, `len`) as (buf, buf_len) pairs, decoded as
    /// they are iterated: the array is bounds-checked here but never copied, so a guest
    /// naming hundreds of millions of iovecs costs the kernel no memory.
    fn read_iovecs(&self, ptr: u32, len: u32) -> Result<Iovecs<'_>, MemError> {
        aligned(ptr, 4)?;
        let total = len
            .checked_mul(crate::types::layout::IOVEC_SIZE)
            .ok_or(MemError)?;
        Ok(Iovecs(self.slice(ptr, total)?.chunks_exact(8)))
    }
}

/// The (buf, buf_len) pairs of an iovec array in guest memory ([`GuestMemoryExt::read_iovecs`]).
#[derive(Clone)]
pub struct Iovecs<'a>(core::slice::ChunksExact<'a, u8>);

impl Iterator for Iovecs<'_> {
    type Item = (u32, u32);
    fn next(&mut self) -> Option<(u32, u32)> {
        self.0.next().map(|c| {
            (
                u32::from_le_bytes([c[0], c[1], c[2], c[3]]),
                u32::from_le_bytes([c[4], c[5], c[6], c[7]]),
            )
        })
    }
}

impl<M: GuestMemory + ?Sized> GuestMemoryExt for M {}
