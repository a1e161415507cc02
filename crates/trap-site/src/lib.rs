//! Names the function an interpreted program trapped in.
//!
//! wasmi 2.0 reports *what* trapped (`TrapCode`) but not *where*: its call stack is
//! private and a trap carries no location. The native tier gets a backtrace from wasmtime;
//! for the interpreter this crate makes the module report its own position:
//!
//! - [`instrument`] returns a copy of a module with one extra mutable `i32` global, exported
//!   under [`Instrumented::export`], that always holds the index of the function running:
//!   every defined function sets it on entry (`i32.const F; global.set G`), and sets it
//!   back after each `call`, `call_indirect` and `call_ref` it makes (when the callee
//!   returns, the caller is running again). Tail calls need nothing: the callee's own entry
//!   sets it. After a trap the global names the innermost function: the one that executed
//!   the trapping instruction, or the caller whose call trapped (bad indirect call, stack
//!   exhaustion) before the callee's first instruction ran.
//! - Nothing else changes: indices of functions, globals, tables and memories are kept (the
//!   global is appended after all others), and only bytes are copied around the inserted
//!   instructions, so the pass is linear in the code size and needs no re-encoding of
//!   operators. Custom sections are left out of the copy (the interpreter ignores them);
//!   the `name` section is kept aside in [`Instrumented::names`] for [`function_name`].
//! - The cost: two extra interpreter instructions per call, and one pass over the code
//!   section at load (the same order of work as wasmi's own section parsing; CPython's 6 MB
//!   of code is the largest module Clew runs).
//!
//! A module the pass cannot read is not the pass's business: [`instrument`] returns an
//! error and the caller hands the original bytes to the engine, whose own validation
//! reports what is wrong with them.
//!
//! With the `wasmi` feature, [`Marked`] does the whole job for a wasmi user: compile the
//! marked copy (falling back to the original bytes) and name a trap's function.
//!
//! Neighbours: the kernel's `process/engine.rs` and the host tool's `host_run.rs` (both run
//! wasmi); the WebAssembly core specification §5.5 (binary format of modules).
#![no_std]

extern crate alloc;

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use wasmparser::{BinaryReader, Name, NameSectionReader, Operator, TypeRef};

/// The export name of the "current function" global (a different one is chosen if the
/// module already exports this name).
pub const EXPORT_NAME: &str = "clew:current-function";

/// The global's value before any function has run (the start of instantiation).
pub const NO_FUNCTION: i32 = -1;

/// A module prepared by [`instrument`].
#[derive(Debug)]
pub struct Instrumented {
    /// The module to hand to the interpreter.
    pub bytes: Vec<u8>,
    /// The export holding the running function's index (an `i32` global).
    pub export: String,
    /// The payload of the original `name` custom section, if it had one.
    pub names: Option<Vec<u8>>,
}

/// Why a module could not be instrumented (the engine then sees the original).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "cannot instrument module: {}", self.0)
    }
}

impl From<wasmparser::BinaryReaderError> for Error {
    fn from(e: wasmparser::BinaryReaderError) -> Self {
        Error(e.to_string())
    }
}

/// Section ids (core spec §5.5.2).
mod id {
    pub const CUSTOM: u8 = 0;
    pub const IMPORT: u8 = 2;
    pub const GLOBAL: u8 = 6;
    pub const EXPORT: u8 = 7;
    pub const CODE: u8 = 10;
    pub const TAG: u8 = 13;
}

/// Position of a section id in the order the spec requires (§5.5.16; tag from the
/// exception-handling proposal sits between memory and global). Unknown ids sort last.
fn rank(section_id: u8) -> u8 {
    match section_id {
        1..=5 => section_id,
        id::TAG => 6,
        id::GLOBAL => 7,
        id::EXPORT => 8,
        8 => 9,   // start
        9 => 10,  // element
        12 => 11, // data count
        id::CODE => 12,
        11 => 13, // data
        _ => 14,
    }
}

/// One top-level section: id and payload.
struct Section<'a> {
    id: u8,
    payload: &'a [u8],
    /// Offset of the payload in the module (for readers' error offsets).
    offset: usize,
}

/// Splits a module into its sections (header checked).
fn sections(wasm: &[u8]) -> Result<Vec<Section<'_>>, Error> {
    if wasm.len() < 8 || &wasm[..4] != b"\0asm" || wasm[4..8] != [1, 0, 0, 0] {
        return Err(Error("not a core WebAssembly module (version 1)".into()));
    }
    let mut reader = BinaryReader::new(&wasm[8..], 8);
    let mut out = Vec::new();
    while !reader.eof() {
        let id = reader.read_u8()?;
        let len = reader.read_var_u32()? as usize;
        let offset = reader.original_position();
        let payload = reader.read_bytes(len)?;
        out.push(Section {
            id,
            payload,
            offset,
        });
    }
    Ok(out)
}

fn push_u32(out: &mut Vec<u8>, mut v: u32) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn push_i32(out: &mut Vec<u8>, v: i32) {
    let mut v = i64::from(v);
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        let done = (v == 0 && byte & 0x40 == 0) || (v == -1 && byte & 0x40 != 0);
        if done {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn push_section(out: &mut Vec<u8>, section_id: u8, payload: &[u8]) {
    out.push(section_id);
    push_u32(out, payload.len() as u32);
    out.extend_from_slice(payload);
}

/// `i32.const func; global.set global` (opcodes 0x41, 0x24).
fn mark(func: u32, global: u32) -> Vec<u8> {
    let mut m = Vec::with_capacity(12);
    m.push(0x41);
    push_i32(&mut m, func as i32);
    m.push(0x24);
    push_u32(&mut m, global);
    m
}

/// A vector section (count, then items) with `extra` appended as one more item.
fn append_item(payload: Option<&Section<'_>>, extra: &[u8]) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    match payload {
        Some(s) => {
            let mut r = BinaryReader::new(s.payload, s.offset);
            let count = r.read_var_u32()?;
            let count = count
                .checked_add(1)
                .ok_or_else(|| Error("too many items".into()))?;
            push_u32(&mut out, count);
            out.extend_from_slice(&s.payload[r.current_position()..]);
        }
        None => push_u32(&mut out, 1),
    }
    out.extend_from_slice(extra);
    Ok(out)
}

/// Returns the instrumented copy of `wasm` (see the crate docs).
pub fn instrument(wasm: &[u8]) -> Result<Instrumented, Error> {
    let sections = sections(wasm)?;
    // Imported functions and globals come first in their index spaces.
    let mut imported_funcs = 0u32;
    let mut globals = 0u32;
    let mut names = None;
    let mut export_names: Vec<&str> = Vec::new();
    for s in &sections {
        match s.id {
            id::IMPORT => {
                let reader =
                    wasmparser::ImportSectionReader::new(BinaryReader::new(s.payload, s.offset))?;
                for import in reader {
                    match import?.ty {
                        TypeRef::Func(_) => imported_funcs += 1,
                        TypeRef::Global(_) => globals += 1,
                        _ => {}
                    }
                }
            }
            id::GLOBAL => {
                let mut r = BinaryReader::new(s.payload, s.offset);
                globals = globals
                    .checked_add(r.read_var_u32()?)
                    .ok_or_else(|| Error("too many globals".into()))?;
            }
            id::EXPORT => {
                let reader =
                    wasmparser::ExportSectionReader::new(BinaryReader::new(s.payload, s.offset))?;
                for export in reader {
                    export_names.push(export?.name);
                }
            }
            id::CUSTOM => {
                let mut r = BinaryReader::new(s.payload, s.offset);
                if r.read_string()? == "name" {
                    names = Some(s.payload[r.current_position()..].to_vec());
                }
            }
            _ => {}
        }
    }
    let global = globals;
    let mut export = EXPORT_NAME.to_string();
    let mut n = 0u32;
    while export_names.contains(&export.as_str()) {
        n += 1;
        export = format!("{EXPORT_NAME}-{n}");
    }

    // The new global: mutable i32 (0x7f 0x01), initialised by `i32.const -1; end`.
    let mut new_global = alloc::vec![0x7f, 0x01, 0x41];
    push_i32(&mut new_global, NO_FUNCTION);
    new_global.push(0x0b);
    // The new export: name, kind global (0x03), index.
    let mut new_export = Vec::new();
    push_u32(&mut new_export, export.len() as u32);
    new_export.extend_from_slice(export.as_bytes());
    new_export.push(0x03);
    push_u32(&mut new_export, global);

    let mut out = Vec::with_capacity(wasm.len() + wasm.len() / 8);
    out.extend_from_slice(&wasm[..8]);
    let mut global_done = false;
    let mut export_done = false;
    for s in &sections {
        if s.id == id::CUSTOM {
            continue;
        }
        // Sections this module lacks are inserted where the order puts them.
        if !global_done && rank(s.id) > rank(id::GLOBAL) {
            push_section(&mut out, id::GLOBAL, &append_item(None, &new_global)?);
            global_done = true;
        }
        if !export_done && rank(s.id) > rank(id::EXPORT) {
            push_section(&mut out, id::EXPORT, &append_item(None, &new_export)?);
            export_done = true;
        }
        match s.id {
            id::GLOBAL => {
                push_section(&mut out, id::GLOBAL, &append_item(Some(s), &new_global)?);
                global_done = true;
            }
            id::EXPORT => {
                push_section(&mut out, id::EXPORT, &append_item(Some(s), &new_export)?);
                export_done = true;
            }
            id::CODE => {
                let code = instrument_code(s, imported_funcs, global)?;
                push_section(&mut out, id::CODE, &code);
            }
            other => push_section(&mut out, other, s.payload),
        }
    }
    if !global_done {
        push_section(&mut out, id::GLOBAL, &append_item(None, &new_global)?);
    }
    if !export_done {
        push_section(&mut out, id::EXPORT, &append_item(None, &new_export)?);
    }
    Ok(Instrumented {
        bytes: out,
        export,
        names,
    })
}

/// The code section with every body marked (see the crate docs).
fn instrument_code(s: &Section<'_>, first_func: u32, global: u32) -> Result<Vec<u8>, Error> {
    let reader = wasmparser::CodeSectionReader::new(BinaryReader::new(s.payload, s.offset))?;
    let mut out = Vec::with_capacity(s.payload.len() + s.payload.len() / 8);
    push_u32(&mut out, reader.count());
    let mut body_out = Vec::new();
    for (i, body) in reader.into_iter().enumerate() {
        let body = body?;
        let func = first_func
            .checked_add(i as u32)
            .ok_or_else(|| Error("too many functions".into()))?;
        let m = mark(func, global);
        let bytes = body.as_bytes();
        let base = body.range().start;
        let ops = body.get_operators_reader()?;
        // Locals as they are, then the entry mark.
        let mut copied = ops.original_position() - base;
        body_out.clear();
        body_out.extend_from_slice(&bytes[..copied]);
        body_out.extend_from_slice(&m);
        let mut ops = ops;
        while !ops.eof() {
            let op = ops.read()?;
            if matches!(
                op,
                Operator::Call { .. } | Operator::CallIndirect { .. } | Operator::CallRef { .. }
            ) {
                let end = ops.original_position() - base;
                body_out.extend_from_slice(&bytes[copied..end]);
                body_out.extend_from_slice(&m);
                copied = end;
            }
        }
        body_out.extend_from_slice(&bytes[copied..]);
        push_u32(&mut out, body_out.len() as u32);
        out.extend_from_slice(&body_out);
    }
    Ok(out)
}

/// The name the `name` section payload `names` gives function `index`, if any (core spec
/// appendix 7.4.1, subsection 1: function names).
pub fn function_name(names: &[u8], index: u32) -> Option<String> {
    let reader = NameSectionReader::new(BinaryReader::new(names, 0));
    for subsection in reader {
        let Ok(Name::Function(map)) = subsection else {
            continue;
        };
        for naming in map {
            let naming = naming.ok()?;
            if naming.index == index {
                return Some(naming.name.to_string());
            }
        }
    }
    None
}

/// The module's own name in the `name` section payload `names` (subsection 0), if any.
pub fn module_name(names: &[u8]) -> Option<String> {
    let reader = NameSectionReader::new(BinaryReader::new(names, 0));
    reader.into_iter().find_map(|s| match s {
        Ok(Name::Module { name, .. }) => Some(name.to_string()),
        _ => None,
    })
}

/// The one-frame backtrace of an interpreter trap, in `wasmtime run`'s words (its
/// `WasmBacktrace` display, a frame without a code offset): the innermost function only,
/// since only it is known.
pub fn backtrace(names: Option<&[u8]>, index: u32) -> String {
    let module = names
        .and_then(module_name)
        .unwrap_or_else(|| "<unknown>".to_string());
    format!(
        "error while executing at wasm backtrace:\n    0: {module}!{}",
        describe(names, index)
    )
}

/// The line wasmtime ends a trap's backtrace with when a module in it carries DWARF that
/// was not parsed (`WasmBacktrace`'s display; the CLI parses DWARF only under
/// `WASMTIME_BACKTRACE_DETAILS=1`, which Clew does not offer).
pub const DWARF_NOTE: &str = "note: using the `WASMTIME_BACKTRACE_DETAILS=1` environment variable may show more debugging information";

/// Whether `wasm` carries DWARF as wasmtime 48 recognises it: a custom section whose name,
/// less a `.dwo` suffix, starts with `.debug_` (`wasmtime_environ`'s module translation sets
/// `has_unparsed_debuginfo` for it). Every C program linked against Debian's wasi-libc has
/// some. A module that cannot be split into sections has none.
pub fn has_dwarf(wasm: &[u8]) -> bool {
    let Ok(sections) = sections(wasm) else {
        return false;
    };
    sections.iter().filter(|s| s.id == id::CUSTOM).any(|s| {
        BinaryReader::new(s.payload, s.offset)
            .read_string()
            .is_ok_and(|name| name.trim_end_matches(".dwo").starts_with(".debug_"))
    })
}

/// `backtrace` (a `WasmBacktrace` display or [`backtrace`]'s) followed by [`DWARF_NOTE`]
/// on a line of its own when the module carries DWARF, as wasmtime prints it.
pub fn with_dwarf_note(backtrace: &str, dwarf: bool) -> String {
    if dwarf {
        format!("{}\n{DWARF_NOTE}", backtrace.trim_end())
    } else {
        backtrace.to_string()
    }
}

/// The cause wasmtime adds between a native memory trap's backtrace and the trap
/// ("memory fault at wasm address 0x… in linear memory of size 0x…"), found among the
/// error chain's messages.
pub fn memory_fault<'a>(chain: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    chain
        .into_iter()
        .find(|m| m.starts_with("memory fault at wasm address"))
}

/// The trap message with the memory-fault cause before it, numbered as the cause after a
/// backtrace (`caused_by` puts the message at 2): "fault\n    3: wasm trap: …".
pub fn with_memory_fault(fault: Option<&str>, msg: &str) -> String {
    match fault {
        Some(f) => format!("{f}\n    3: {msg}"),
        None => msg.to_string(),
    }
}

/// `wasmtime run`'s report of a failed run: `Error: failed to run main module `MODULE``,
/// then the `Caused by:` list of `causes` (the first cause, then "\n    1: ..." and so
/// on, as [`caused_by`] builds them): one cause is shown unnumbered, several numbered
/// from 0; and, as the wasmtime CLI (48, 49) ends every error report, an empty line.
pub fn main_module_error(module: &str, causes: &str) -> String {
    if causes.contains("\n    1: ") {
        format!("Error: failed to run main module `{module}`\n\nCaused by:\n    0: {causes}\n\n")
    } else {
        format!("Error: failed to run main module `{module}`\n\nCaused by:\n    {causes}\n\n")
    }
}

/// The causes of a trap as `wasmtime run` prints them after `Caused by:`: `what` failed
/// (`failed to invoke command default`), then the backtrace if known, then the trap
/// message. A cause's continuation lines (the backtrace's frames, each already
/// `{index:>5}: ...`) are not indented further, as the wasmtime CLI 48 and 49 print them
/// (anyhow, which older CLIs used, indented them by 7 more columns).
pub fn caused_by(what: &str, backtrace: Option<&str>, msg: &str) -> String {
    match backtrace {
        Some(bt) => {
            let bt = bt.trim_end();
            format!("{what}\n    1: {bt}\n    2: {msg}")
        }
        None => format!("{what}\n    1: {msg}"),
    }
}

/// How a trap's function is shown: its name (demangled), else wasmtime's
/// `<wasm function N>`.
pub fn describe(names: Option<&[u8]>, index: u32) -> String {
    match names.and_then(|n| function_name(n, index)) {
        Some(name) => demangle(&name),
        None => format!("<wasm function {index}>"),
    }
}

/// A Rust or C++ symbol name demangled, any other name as it is: what wasmtime's
/// backtraces show (`wasmtime_environ::demangle_function_name`, with the same crates and
/// order, quirks included: a short name that parses as an Itanium type, such as `f`, comes
/// out as that type, `float`, under wasmtime too).
pub fn demangle(name: &str) -> String {
    if let Ok(d) = rustc_demangle::try_demangle(name) {
        return format!("{d}");
    }
    if let Ok(symbol) = cpp_demangle::Symbol::new(name) {
        if let Ok(d) = symbol.demangle() {
            return d;
        }
    }
    String::from(name)
}

/// A wasmi module compiled from the marked copy, and what names a trap's function.
#[cfg(feature = "wasmi")]
#[derive(Clone, Debug)]
pub struct Marked {
    /// The module to instantiate.
    pub module: wasmi::Module,
    /// `None` when the original bytes had to be compiled (no names then).
    marks: Option<alloc::sync::Arc<(String, Option<Vec<u8>>)>>,
    /// The module carries DWARF ([`has_dwarf`]): backtraces end with [`DWARF_NOTE`].
    dwarf: bool,
}

#[cfg(feature = "wasmi")]
impl Marked {
    /// Compiles the marked copy of `bytes`; a module the pass cannot read, or whose copy
    /// wasmi refuses, is compiled as it is, so that an error speaks of its own bytes. The
    /// copy is dropped once wasmi has taken what it keeps.
    pub fn compile(engine: &wasmi::Engine, bytes: &[u8]) -> Result<Marked, wasmi::Error> {
        let dwarf = has_dwarf(bytes);
        if let Ok(marked) = instrument(bytes) {
            if let Ok(module) = wasmi::Module::new(engine, &marked.bytes) {
                return Ok(Marked {
                    module,
                    marks: Some(alloc::sync::Arc::new((marked.export, marked.names))),
                    dwarf,
                });
            }
        }
        Ok(Marked {
            module: wasmi::Module::new(engine, bytes)?,
            marks: None,
            dwarf,
        })
    }

    /// After a trap in `instance` (of this module): the function it happened in
    /// ([`describe`]) and its one-frame backtrace ([`backtrace`], with [`DWARF_NOTE`] when
    /// the module carries DWARF).
    pub fn locate<T>(
        &self,
        store: &wasmi::Store<T>,
        instance: &wasmi::Instance,
    ) -> Option<(String, String)> {
        let marks = self.marks.as_deref()?;
        let value = instance.get_global(store, &marks.0)?.get(store).i32()?;
        let index = u32::try_from(value).ok()?;
        let names = marks.1.as_deref();
        Some((
            describe(names, index),
            with_dwarf_note(&backtrace(names, index), self.dwarf),
        ))
    }
}
