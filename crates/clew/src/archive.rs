//! The boot archive: the root filesystem `clew` hands the kernel as a multiboot module
//! (ustar, written by the `vfs` crate's own writer so that both sides share one format).
//! `clew boot` fills it with the userland (`/bin`) and the `--dir` trees; `clew run` with
//! the module, its `--dir` trees and the run spec (see `guest_run`).

use anyhow::{bail, Context};
use std::path::Path;
use vfs::{Ino, Vfs};

/// The userland compiled from `apps/*.c` by build.rs.
mod apps {
    include!(concat!(env!("OUT_DIR"), "/apps.rs"));
}

/// A root filesystem being assembled on the host.
pub struct Archive {
    fs: Vfs,
}

impl Archive {
    /// An empty tree (no size limit: the guest's RAM is sized from the result).
    pub fn new() -> Self {
        let mut fs = Vfs::new(Box::new(now_ns));
        fs.set_limit_bytes(u64::MAX);
        Archive { fs }
    }

    /// Adds `/bin/<name>` for every program of the userland, and its precompiled form at
    /// `/lib/cwasm/bin/<name>.cwasm` (compiled into the host cache at first use).
    pub fn add_userland(&mut self) -> anyhow::Result<()> {
        for (name, wasm) in apps::APPS {
            self.add_file(&format!("/bin/{name}"), wasm)?;
        }
        for (name, cwasm) in crate::compile::precompile_userland(apps::APPS) {
            self.add_file(
                &format!("{}/bin/{name}.cwasm", crate::compile::GUEST_CWASM_DIR),
                &cwasm,
            )?;
        }
        Ok(())
    }

    /// Whether the userland was compiled into this binary.
    pub fn has_userland() -> bool {
        !apps::APPS.is_empty()
    }

    /// Creates the directory `path` (absolute) and its parents, returning it.
    pub fn mkdir_all(&mut self, path: &str) -> anyhow::Result<Ino> {
        let mut dir = self.fs.root();
        for part in path.split('/').filter(|p| !p.is_empty() && *p != ".") {
            if part == ".." {
                bail!("guest path {path} may not contain `..`");
            }
            dir = match self.fs.lookup(dir, part) {
                Ok(ino) => ino,
                Err(vfs::Error::NotFound) => self.fs.mkdir(dir, part).map_err(fs_err(path))?,
                Err(e) => return Err(fs_err(path)(e)),
            };
        }
        Ok(dir)
    }

    /// Adds a symlink at the absolute guest path `path` pointing to `target`.
    pub fn add_symlink(&mut self, path: &str, target: &str) -> anyhow::Result<()> {
        let (parent, name) = path
            .rsplit_once('/')
            .filter(|(_, n)| !n.is_empty())
            .with_context(|| format!("bad guest symlink path {path}"))?;
        let dir = self.mkdir_all(parent)?;
        self.fs.symlink(target, dir, name).map_err(fs_err(path))?;
        Ok(())
    }

    /// Adds a regular file at the absolute guest path `path`.
    pub fn add_file(&mut self, path: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let (parent, name) = path
            .rsplit_once('/')
            .filter(|(_, n)| !n.is_empty())
            .with_context(|| format!("bad guest file path {path}"))?;
        let dir = self.mkdir_all(parent)?;
        let (ino, _) = self.fs.create_file(dir, name, true).map_err(fs_err(path))?;
        self.fs.write_at(ino, 0, bytes).map_err(fs_err(path))?;
        Ok(())
    }

    /// Copies the host directory `host` to the guest directory `guest` (absolute); with
    /// `remotes`, its large files as remote files (`dirsync::pack_dir_lazy`). Returns
    /// what was packed, for `dirsync::apply` to write back only the program's changes.
    pub fn add_host_dir(
        &mut self,
        guest: &str,
        host: &Path,
        remotes: Option<&mut crate::dirsync::Remotes>,
    ) -> anyhow::Result<crate::dirsync::Snapshot> {
        if !host.is_dir() {
            bail!("--dir {}: not a directory", host.display());
        }
        let (packed, snapshot) = match remotes {
            Some(remotes) => crate::dirsync::pack_dir_lazy(host, remotes)?,
            None => crate::dirsync::pack_dir(host)?,
        };
        let dir = self.mkdir_all(guest)?;
        // Leaked so that the tree's files borrow the packed bytes instead of copying them
        // (a `--dir` can be hundreds of MB); `clew` is a short-lived process.
        self.fs
            .load_tar_static(dir, packed.leak())
            .map_err(|e| anyhow::anyhow!("packing {}: {e}", host.display()))?;
        Ok(snapshot)
    }

    /// The finished archive.
    pub fn finish(self) -> anyhow::Result<Vec<u8>> {
        let root = self.fs.root();
        self.fs.dump_tar(root).map_err(fs_err("/"))
    }
}

fn fs_err(path: &str) -> impl Fn(vfs::Error) -> anyhow::Error + '_ {
    move |e| anyhow::anyhow!("building the boot archive at {path}: {e}")
}

fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}
