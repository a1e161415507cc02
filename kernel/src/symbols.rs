//! Function names for diagnoses, from the `.symtab` of the kernel's own ELF file, which the
//! boot loader passes as a module whose string ends in `symbols` (ELF-64 Object File Format
//! v1.5: section headers at `e_shoff`, `SHT_SYMTAB` = 2 linked to its string table; symbol
//! entries of 24 bytes). Written here rather than pulling in an ELF crate: it needs ~60 lines
//! and only reads two sections. Names are demangled with `rustc-demangle`.

use alloc::vec::Vec;
use spin::Once;

struct Symbol {
    addr: u64,
    size: u64,
    name: &'static [u8],
}

static TABLE: Once<Vec<Symbol>> = Once::new();

fn u16_at(b: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(o..o + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(o..o + 4)?.try_into().ok()?))
}
fn u64_at(b: &[u8], o: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(o..o + 8)?.try_into().ok()?))
}

fn parse(elf: &'static [u8]) -> Option<Vec<Symbol>> {
    if elf.get(0..4)? != b"\x7fELF" || *elf.get(4)? != 2 {
        return None;
    }
    let shoff = u64_at(elf, 0x28)? as usize;
    let shentsize = u16_at(elf, 0x3a)? as usize;
    let shnum = u16_at(elf, 0x3c)? as usize;
    let section = |i: usize| shoff.checked_add(i.checked_mul(shentsize)?);
    for i in 0..shnum {
        let sh = section(i)?;
        if u32_at(elf, sh + 4)? != 2 {
            continue;
        }
        let off = u64_at(elf, sh + 0x18)? as usize;
        let size = u64_at(elf, sh + 0x20)? as usize;
        let link = u32_at(elf, sh + 0x28)? as usize;
        let strsh = section(link)?;
        let stroff = u64_at(elf, strsh + 0x18)? as usize;
        let strsize = u64_at(elf, strsh + 0x20)? as usize;
        let strtab = elf.get(stroff..stroff.checked_add(strsize)?)?;
        let mut out = Vec::new();
        for e in (off..off + size).step_by(24) {
            let info = *elf.get(e + 4)?;
            if info & 0xf != 2 {
                continue; // not STT_FUNC
            }
            let name_off = u32_at(elf, e)? as usize;
            let addr = u64_at(elf, e + 8)?;
            let size = u64_at(elf, e + 16)?;
            let rest = strtab.get(name_off..)?;
            let len = rest.iter().position(|&c| c == 0).unwrap_or(rest.len());
            out.push(Symbol {
                addr,
                size,
                name: &rest[..len],
            });
        }
        out.sort_by_key(|s| s.addr);
        return Some(out);
    }
    None
}

/// Loads the symbol table from the boot module whose string ends in `symbols`.
pub fn init(info: &hal::boot::BootInfo) {
    let module = info.modules().find(|m| m.name().ends_with("symbols"));
    let table = module.and_then(|m| parse(m.bytes())).unwrap_or_default();
    log::info!("symbols: {} functions", table.len());
    TABLE.call_once(|| table);
}

/// The demangled function containing `addr` and the offset into it.
pub fn lookup(addr: u64) -> Option<(rustc_demangle::Demangle<'static>, u64)> {
    let table = TABLE.get()?;
    let i = table.partition_point(|s| s.addr <= addr).checked_sub(1)?;
    let s = &table[i];
    if addr >= s.addr + s.size.max(1) && s.size != 0 {
        return None;
    }
    let name = core::str::from_utf8(s.name).ok()?;
    Some((rustc_demangle::demangle(name), addr - s.addr))
}

/// Formats `addr` as `0x... name+0xoff` (or just the address).
pub struct Addr(pub u64);

impl core::fmt::Display for Addr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match lookup(self.0) {
            Some((name, off)) => write!(f, "{:#x} {:#}+{:#x}", self.0, name, off),
            None => write!(f, "{:#x} ?", self.0),
        }
    }
}
