//! The shell's view of the filesystem: the global VFS (`crate::fs`) resolved without
//! confinement (the shell is trusted, absolute paths start at the root), used for `cd`
//! (the directory must exist; the new working directory is its canonical path) and for
//! finding programs (`/bin`, then `$PATH`, or a path containing `/` resolved from the
//! working directory). Programs themselves open files through `crate::process`.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use vfs::{FileKind, Ino, Vfs};

/// Runs `f` with the global filesystem locked.
fn with_vfs<R>(f: impl FnOnce(&Vfs) -> R) -> R {
    let shared = crate::fs::shared();
    let guard = shared.lock();
    f(&guard)
}

/// `path` made absolute against `cwd` (lexically: no resolution, `.`/`..` kept).
pub fn absolute(cwd: &str, path: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else if cwd.ends_with('/') {
        alloc::format!("{cwd}{path}")
    } else {
        alloc::format!("{cwd}/{path}")
    }
}

/// Resolves `path` (from `cwd`) to a directory and returns its canonical absolute path, for
/// `cd`. Symlinks are followed, so the result names the directory itself (`cd -P`).
pub fn directory(cwd: &str, path: &str) -> Result<String, vfs::Error> {
    let abs = absolute(cwd, path);
    with_vfs(|vfs| {
        let ino = vfs.resolve(vfs.root(), &abs, true, false)?;
        if vfs.metadata(ino)?.kind != FileKind::Directory {
            return Err(vfs::Error::NotDir);
        }
        canonical(vfs, ino)
    })
}

/// The absolute path of directory `dir`, from its parent links.
fn canonical(vfs: &Vfs, mut dir: Ino) -> Result<String, vfs::Error> {
    let mut names: Vec<String> = Vec::new();
    loop {
        let parent = vfs.parent(dir)?;
        if parent == dir {
            break;
        }
        let name = vfs
            .read_dir(parent)?
            .into_iter()
            .find(|e| e.ino == dir)
            .map(|e| e.name)
            .ok_or(vfs::Error::NotFound)?;
        names.push(name);
        dir = parent;
        if names.len() > 4096 {
            return Err(vfs::Error::Loop);
        }
    }
    if names.is_empty() {
        return Ok("/".to_string());
    }
    let mut out = String::new();
    for name in names.iter().rev() {
        out.push('/');
        out.push_str(name);
    }
    Ok(out)
}

/// Why a command name did not lead to a program.
pub enum LookupError {
    /// No such program in `/bin` or `$PATH` (status 127, `command not found`).
    NotFound,
    /// A path that does not exist (status 127, as in sh).
    NoSuchFile,
    /// It exists but cannot be run: a directory (status 126).
    NotRunnable(&'static str),
}

/// Finds the program `name`: with a `/` in it, a path from `cwd`; otherwise `/bin/NAME`,
/// then each directory of `path_var` (`:`-separated; empty entries mean the cwd, as in sh).
/// Returns the absolute path to hand to `process::spawn`.
pub fn program(cwd: &str, name: &str, path_var: Option<&str>) -> Result<String, LookupError> {
    if name.is_empty() {
        return Err(LookupError::NotFound);
    }
    if name.contains('/') {
        let abs = absolute(cwd, name);
        return match kind(&abs) {
            Some(FileKind::Directory) => Err(LookupError::NotRunnable("is a directory")),
            Some(_) => Ok(abs),
            None => Err(LookupError::NoSuchFile),
        };
    }
    let mut dirs: Vec<&str> = Vec::from(["/bin"]);
    if let Some(path) = path_var {
        dirs.extend(path.split(':').filter(|d| *d != "/bin"));
    }
    for dir in dirs {
        let dir = if dir.is_empty() { cwd } else { dir };
        let candidate = absolute(&absolute(cwd, dir), name);
        if matches!(kind(&candidate), Some(FileKind::RegularFile)) {
            return Ok(candidate);
        }
    }
    Err(LookupError::NotFound)
}

/// The kind of what `abs` names, following symlinks; `None` if it does not resolve.
fn kind(abs: &str) -> Option<FileKind> {
    with_vfs(|vfs| {
        let ino = vfs.resolve(vfs.root(), abs, true, false).ok()?;
        vfs.metadata(ino).ok().map(|m| m.kind)
    })
}
