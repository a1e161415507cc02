//! QEMU launcher shared by `clew boot` and `clew run`: writes out the kernel image this
//! binary carries, finds `qemu-system-x86_64`, builds its command line (console on COM1,
//! kernel log on COM2, bulk data on COM3, the kernel ELF as a `symbols` module for backtraces) and maps
//! QEMU's exit status back to the guest's. QEMU never outlives `clew` (it runs under a
//! parent-death signal), and a run's temporary directory left by a killed `clew` is
//! removed by the next one.
//!
//! [`SharedRam`]: guest RAM in a memory file this process holds (QEMU maps it shared), so
//! that bulk data the guest leaves in RAM can be read after QEMU exits, at memory speed
//! instead of the serial port's ~1 MB/s.

use anyhow::{bail, Context};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

/// The kernel image built with this binary (see build.rs).
static KERNEL_ELF: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/clew-kernel.elf"));

/// The line the kernel writes to its log (COM2) right before it powers off on purpose;
/// a QEMU exit status 0 without it means the guest reset (e.g. a triple fault).
pub const POWEROFF_MARKER: &str = "clew: power off";

/// A temporary directory for one QEMU run: the kernel image and the kernel log.
pub struct RunDir {
    path: PathBuf,
}

impl RunDir {
    /// Creates a fresh private directory under the system temp dir (after removing those
    /// that runs killed before they could remove theirs: see [`remove_stale_run_dirs`]).
    pub fn new() -> anyhow::Result<Self> {
        let base = std::env::temp_dir();
        remove_stale_run_dirs(&base);
        for attempt in 0..100u32 {
            let path = base.join(format!("clew-{}-{attempt}", std::process::id()));
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(RunDir { path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e).context("creating a temporary directory"),
            }
        }
        bail!(
            "could not create a temporary directory under {}",
            base.display()
        )
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Guest RAM as an anonymous memory file (memfd) created here and inherited by QEMU,
/// which maps it shared (`memory-backend-file`): after QEMU exits its contents are the
/// guest's last RAM.
pub struct SharedRam {
    file: std::fs::File,
    bytes: u64,
}

impl SharedRam {
    /// An empty memory file, or `None` where this host cannot make one (then bulk data
    /// goes over the serial port): `CLEW_NO_SHARED_RAM` set, or `memfd_create` refused.
    pub fn create() -> Option<SharedRam> {
        if std::env::var_os("CLEW_NO_SHARED_RAM").is_some() {
            return None;
        }
        // Without CLOEXEC: QEMU inherits the descriptor and opens it by its /proc path.
        match rustix::fs::memfd_create("clew-guest-ram", rustix::fs::MemfdFlags::empty()) {
            Ok(fd) => Some(SharedRam {
                file: std::fs::File::from(fd),
                bytes: 0,
            }),
            Err(e) => {
                eprintln!("clew: warning: no shared guest RAM (memfd_create: {e}); output and --dir trees go over the serial port");
                None
            }
        }
    }

    /// Sizes the file to `mib` MiB of guest RAM, zero-filled (pages are only allocated
    /// when written).
    pub fn set_size(&mut self, mib: u32) -> anyhow::Result<()> {
        self.bytes = u64::from(mib) << 20;
        self.file
            .set_len(self.bytes)
            .context("sizing the guest RAM file")
    }

    fn qemu_args(&self) -> [String; 4] {
        use std::os::fd::AsRawFd;
        [
            "-object".into(),
            format!(
                "memory-backend-file,id=clew-ram,size={}M,mem-path=/proc/self/fd/{},share=on",
                self.bytes >> 20,
                self.file.as_raw_fd()
            ),
            "-machine".into(),
            "memory-backend=clew-ram".into(),
        ]
    }

    /// Reads the byte at guest-physical `phys` while QEMU runs (one byte: never torn).
    pub fn read_byte(&self, phys: u64) -> anyhow::Result<u8> {
        use std::os::unix::fs::FileExt;
        let offset = ram_offset(phys, self.bytes)
            .with_context(|| format!("guest address {phys:#x} is not RAM"))?;
        let mut byte = [0u8];
        self.file
            .read_exact_at(&mut byte, offset)
            .context("reading guest RAM")?;
        Ok(byte[0])
    }

    /// Writes one byte at guest-physical `phys` while QEMU runs (QEMU maps the same
    /// file shared, so the guest sees it; one byte cannot be seen half written).
    pub fn write_byte(&self, phys: u64, value: u8) -> anyhow::Result<()> {
        use std::os::unix::fs::FileExt;
        let offset = ram_offset(phys, self.bytes)
            .with_context(|| format!("guest address {phys:#x} is not RAM"))?;
        self.file
            .write_all_at(&[value], offset)
            .context("writing guest RAM")
    }

    /// The bytes at the guest-physical `runs`, concatenated.
    pub fn read_runs(&self, runs: &[(u64, u64)]) -> anyhow::Result<Vec<u8>> {
        use std::os::unix::fs::FileExt;
        let ranges = self.file_ranges(runs)?;
        let mut out = vec![0u8; ranges.iter().map(|r| r.1).sum::<u64>() as usize];
        let mut at = 0usize;
        for (offset, len) in ranges {
            self.file
                .read_exact_at(&mut out[at..at + len as usize], offset)
                .context("reading guest RAM")?;
            at += len as usize;
        }
        Ok(out)
    }

    /// Writes `data` over the guest-physical `runs` (as many bytes as they hold) while QEMU
    /// runs.
    pub fn write_runs(&self, runs: &[(u64, u64)], data: &[u8]) -> anyhow::Result<()> {
        use std::os::unix::fs::FileExt;
        let ranges = self.file_ranges(runs)?;
        if ranges.iter().map(|r| r.1).sum::<u64>() != data.len() as u64 {
            bail!("{} bytes do not fit the guest runs given", data.len());
        }
        let mut at = 0usize;
        for (offset, len) in ranges {
            self.file
                .write_all_at(&data[at..at + len as usize], offset)
                .context("writing guest RAM")?;
            at += len as usize;
        }
        Ok(())
    }

    /// Where the guest-physical `runs` lie in the RAM file: (offset, length) each; an
    /// error for a run that is not all RAM.
    fn file_ranges(&self, runs: &[(u64, u64)]) -> anyhow::Result<Vec<(u64, u64)>> {
        let total: u64 = runs.iter().map(|r| r.1).sum();
        if total > self.bytes {
            bail!("the guest described {total} bytes, more than its RAM");
        }
        let mut out = Vec::with_capacity(runs.len());
        for &(phys, len) in runs {
            if len == 0 {
                continue;
            }
            let end_phys = phys
                .checked_add(len)
                .context("run past the address space")?;
            let (Some(start), Some(end)) = (
                ram_offset(phys, self.bytes),
                ram_offset(end_phys - 1, self.bytes),
            ) else {
                bail!("guest address {phys:#x}+{len:#x} is not RAM");
            };
            if end - start != len - 1 {
                bail!("guest run {phys:#x}+{len:#x} crosses the 4 GiB hole");
            }
            out.push((start, len));
        }
        Ok(out)
    }
}

/// Where guest-physical `phys` lies in the RAM file of a QEMU `pc` machine with
/// `ram_bytes` of RAM (hw/i386/pc_piix.c): RAM up to 3.5 GiB sits below 4 GiB, at its own
/// address; more is split at 3 GiB, the rest mapped from 4 GiB on.
pub fn ram_offset(phys: u64, ram_bytes: u64) -> Option<u64> {
    const FOUR_GIB: u64 = 1 << 32;
    let below = if ram_bytes >= 0xe000_0000 {
        0xc000_0000
    } else {
        ram_bytes
    };
    let above = ram_bytes - below;
    if phys < below {
        Some(phys)
    } else if (FOUR_GIB..FOUR_GIB + above).contains(&phys) {
        Some(below + (phys - FOUR_GIB))
    } else {
        None
    }
}

/// Removes `clew-PID-N` directories under `base` whose process no longer exists: a
/// `clew` killed by a signal (a timeout's SIGTERM, SIGKILL) cannot remove its own, and
/// with `--dir` it holds a copy of the whole tree. Directories of live processes, and
/// those we may not remove (another user's), are left alone; so is everything when there
/// is no `/proc` to tell live processes from dead ones.
fn remove_stale_run_dirs(base: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("clew-"))
            .and_then(|rest| rest.split_once('-'))
            .filter(|(_, attempt)| attempt.parse::<u32>().is_ok())
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && !Path::new("/proc").join(pid.to_string()).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// How to start QEMU for one boot.
pub struct Launch<'a> {
    /// Scratch directory of this run.
    pub dir: &'a RunDir,
    /// Guest RAM in MiB.
    pub memory_mib: u32,
    /// Kernel command line.
    pub cmdline: &'a str,
    /// Where COM1 (the console) goes: a QEMU chardev spec such as `stdio,id=con,signal=off`.
    pub console: &'a str,
    /// Extra multiboot modules: (path, tag) pairs; the kernel matches the tag.
    pub modules: Vec<(PathBuf, &'a str)>,
    /// Guest RAM in a file this process reads after the run (else QEMU's own RAM).
    pub shared_ram: Option<&'a SharedRam>,
}

impl Launch<'_> {
    /// Path of the kernel log (COM2) of this run.
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("kernel.log")
    }

    /// Path of the bulk-data port's output (COM3): `clew boot`'s `--dir` trees at
    /// power-off.
    pub fn bulk_path(&self) -> PathBuf {
        self.dir.path().join("bulk.bin")
    }

    /// Builds the QEMU command.
    pub fn command(&self) -> anyhow::Result<Command> {
        if KERNEL_ELF.is_empty() {
            bail!("this clew binary carries no kernel: building kernel/ failed when it was built (see the cargo warnings)");
        }
        let qemu = find_qemu()?;
        let kernel = self.dir.path().join("clew-kernel");
        std::fs::write(&kernel, KERNEL_ELF).context("writing the kernel image")?;
        // QEMU splits -initrd on commas: refuse paths that contain one rather than
        // passing QEMU a wrong module list.
        let mut modules = vec![(kernel.clone(), "symbols")];
        modules.extend(self.modules.iter().map(|(p, t)| (p.clone(), *t)));
        let mut initrd = OsString::new();
        for (i, (path, tag)) in modules.iter().enumerate() {
            let text = path.to_str().context("module path is not UTF-8")?;
            if text.contains(',') || text.contains(' ') {
                bail!("module path {text} contains a comma or space, which QEMU cannot take");
            }
            // The kernel keeps 128 bytes of a module's string and finds modules by the tag
            // at its end (`hal::boot::Module::name`).
            if text.len() + 1 + tag.len() > 128 {
                bail!("module path {text} is too long for the kernel (set TMPDIR to a shorter directory)");
            }
            if i > 0 {
                initrd.push(",");
            }
            initrd.push(format!("{text} {tag}"));
        }
        // QEMU must not outlive us, however we end: a `clew` killed by a signal (a
        // harness's timeout, SIGKILL) would otherwise leave it running the guest forever.
        // util-linux's `setpriv` sets the parent-death signal (prctl PR_SET_PDEATHSIG) and
        // execs QEMU; doing it ourselves would take `unsafe` (`pre_exec`) in this crate.
        let mut cmd = match parent_death_wrapper() {
            Some(setpriv) => {
                let mut cmd = Command::new(setpriv);
                cmd.args(["--pdeathsig", "KILL", "--"]).arg(qemu);
                cmd
            }
            None => Command::new(qemu),
        };
        cmd.arg("-kernel")
            .arg(&kernel)
            .args(["-m", &self.memory_mib.to_string()])
            .args(["-display", "none", "-no-reboot", "-nodefaults"])
            .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"])
            .args(["-chardev", &format!("{},id=con", self.console)])
            .args(["-serial", "chardev:con"])
            .arg("-serial")
            .arg(format!("file:{}", self.log_path().display()))
            .arg("-serial")
            .arg(format!("file:{}", self.bulk_path().display()))
            .arg("-initrd")
            .arg(initrd)
            .args(["-append", self.cmdline]);
        if let Some(ram) = self.shared_ram {
            cmd.args(ram.qemu_args());
        }
        Ok(cmd)
    }

    /// Maps QEMU's exit status to the guest's exit code. The kernel powers off through
    /// ACPI (QEMU exits 0) or writes a code to the isa-debug-exit port, which QEMU turns
    /// into the status `code << 1 | 1`.
    pub fn guest_exit_code(&self, status: ExitStatus) -> anyhow::Result<u8> {
        let Some(code) = status.code() else {
            bail!("QEMU was killed by a signal ({status})");
        };
        if code == 0 {
            let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
            if !log.contains(POWEROFF_MARKER) {
                bail!(
                    "the guest reset unexpectedly (a triple fault?); kernel log:\n{}",
                    tail(&log, 20)
                );
            }
            return Ok(0);
        }
        if code & 1 == 1 {
            return Ok(((code >> 1) & 0xff) as u8);
        }
        bail!("QEMU failed with status {code}");
    }
}

/// The last `n` lines of `text`.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// `setpriv` if it is on PATH and knows `--pdeathsig` (util-linux 2.33 and later; Debian
/// ships it in the essential package `util-linux`).
fn parent_death_wrapper() -> Option<PathBuf> {
    static WRAPPER: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    WRAPPER
        .get_or_init(|| {
            let setpriv = find_on_path("setpriv")?;
            let help = Command::new(&setpriv).arg("--help").output().ok()?;
            String::from_utf8_lossy(&help.stdout)
                .contains("--pdeathsig")
                .then_some(setpriv)
        })
        .clone()
}

/// The first file named `name` in a directory of PATH.
fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Finds `qemu-system-x86_64` on PATH (or `$CLEW_QEMU`).
pub fn find_qemu() -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os("CLEW_QEMU") {
        return Ok(PathBuf::from(p));
    }
    if let Some(qemu) = find_on_path("qemu-system-x86_64") {
        return Ok(qemu);
    }
    bail!("qemu-system-x86_64 not found: install it with `sudo apt-get install qemu-system-x86`")
}

#[cfg(test)]
mod tests {
    use super::ram_offset;

    #[test]
    fn guest_physical_addresses_map_to_the_ram_file_like_qemu_pc() {
        let gib = 1u64 << 30;
        assert_eq!(ram_offset(0x10_0000, gib), Some(0x10_0000));
        assert_eq!(ram_offset(gib - 1, gib), Some(gib - 1));
        assert_eq!(ram_offset(gib, gib), None);
        // 4 GiB of RAM: 3 GiB below the hole, 1 GiB from 4 GiB on.
        let ram = 4 * gib;
        assert_eq!(ram_offset(3 * gib - 1, ram), Some(3 * gib - 1));
        assert_eq!(ram_offset(3 * gib, ram), None);
        assert_eq!(ram_offset(4 * gib, ram), Some(3 * gib));
        assert_eq!(ram_offset(5 * gib - 1, ram), Some(4 * gib - 1));
        assert_eq!(ram_offset(5 * gib, ram), None);
    }
}
