//! Path resolution: turns a path relative to a base directory into an inode
//! ([`Vfs::resolve`]) or into the directory and final name an operation acts on
//! ([`Vfs::resolve_parent`]).
//!
//! The walk keeps the directories it went through as a stack starting at the base. `..`
//! pops it; popping the base itself is an escape when confined (the check cap-std and
//! wasmtime make for WASI preopens). Because directories have exactly one parent, the stack
//! always agrees with the tree's parent pointers. Symlinks are expanded in place: their
//! components are pushed on the work list and resolved from the directory holding the link.

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use crate::tree::{Body, Ino, Vfs, MAX_NAME_LEN, MAX_SYMLINKS};
use crate::{Error, Result};

/// A path split into components (empty ones and the slashes dropped).
struct ParsedPath<'a> {
    absolute: bool,
    components: Vec<&'a str>,
    trailing_slash: bool,
}

fn parse_path(path: &str) -> Result<ParsedPath<'_>> {
    if path.is_empty() {
        // POSIX: "a null pathname shall not be successfully resolved" (ENOENT).
        return Err(Error::NotFound);
    }
    if path.contains('\0') {
        return Err(Error::Invalid);
    }
    let components: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    if components.iter().any(|c| c.len() > MAX_NAME_LEN) {
        return Err(Error::NameTooLong);
    }
    Ok(ParsedPath {
        absolute: path.starts_with('/'),
        trailing_slash: path.ends_with('/') && !components.is_empty(),
        components,
    })
}

struct Walker<'a> {
    vfs: &'a Vfs,
    /// Directories from the start of the walk to the current one.
    stack: Vec<Ino>,
    confine: bool,
    links_followed: u32,
}

impl<'a> Walker<'a> {
    fn new(vfs: &'a Vfs, base: Ino, absolute: bool, confine: bool) -> Result<Walker<'a>> {
        vfs.entries(base)?;
        let start = if absolute {
            if confine {
                return Err(Error::Escape);
            }
            vfs.root()
        } else {
            base
        };
        Ok(Walker {
            vfs,
            stack: vec![start],
            confine,
            links_followed: 0,
        })
    }

    fn current(&self) -> Ino {
        // The stack is never empty: it starts with one entry and `up` never pops the last.
        self.stack.last().copied().unwrap_or(self.vfs.root())
    }

    fn up(&mut self) -> Result<()> {
        if self.stack.len() > 1 {
            self.stack.pop();
        } else if self.confine {
            return Err(Error::Escape);
        } else {
            let parent = self.vfs.parent(self.current())?;
            self.stack = vec![parent];
        }
        Ok(())
    }

    /// Resolves the components in `todo` (a stack: the next component is last), following
    /// symlinks except a final one when `follow_last` is false.
    fn run(&mut self, todo: &mut Vec<String>, follow_last: bool) -> Result<()> {
        while let Some(component) = todo.pop() {
            let follow = follow_last || !todo.is_empty();
            self.step(&component, todo, follow)?;
        }
        Ok(())
    }

    /// Like `run`, but stops with one component left and returns it (None if `todo` is
    /// empty). Symlinks met on the way are expanded, so the returned component is the last
    /// one of the fully expanded path.
    fn run_to_last(&mut self, todo: &mut Vec<String>) -> Result<Option<String>> {
        while todo.len() > 1 {
            if let Some(component) = todo.pop() {
                self.step(&component, todo, true)?;
            }
        }
        Ok(todo.pop())
    }

    /// Walks one component: `.` stays, `..` goes up, a name goes down, or, for a symlink
    /// when `follow`, pushes the link's expansion onto `todo` (counted against the limit).
    fn step(&mut self, component: &str, todo: &mut Vec<String>, follow: bool) -> Result<()> {
        // Every component, `.` and `..` included, needs a directory to be looked up in:
        // `file/.` and `file/..` are ENOTDIR.
        let entries = self.vfs.entries(self.current())?;
        match component {
            "." => {}
            ".." => self.up()?,
            name => {
                let child = *entries.get(name).ok_or(Error::NotFound)?;
                match &self.vfs.node(child)?.body {
                    Body::Symlink(target) if follow => {
                        self.links_followed += 1;
                        if self.links_followed > MAX_SYMLINKS {
                            return Err(Error::Loop);
                        }
                        self.expand(target, todo)?;
                    }
                    _ => self.stack.push(child),
                }
            }
        }
        Ok(())
    }

    /// Replaces a symlink by its target's components, resolved from the link's directory.
    fn expand(&mut self, target: &str, todo: &mut Vec<String>) -> Result<()> {
        let parsed = parse_path(target)?;
        if parsed.absolute {
            if self.confine {
                return Err(Error::Escape);
            }
            self.stack = vec![self.vfs.root()];
        }
        if parsed.trailing_slash {
            // `link -> dir/` demands a directory, which a following `.` checks.
            todo.push(".".to_string());
        }
        todo.extend(parsed.components.iter().rev().map(|c| c.to_string()));
        Ok(())
    }
}

impl Vfs {
    /// Resolves `path` relative to directory `base_dir` to an inode.
    ///
    /// Handles `.`, `..`, repeated slashes and symlinks (relative ones from the directory
    /// holding them; at most [`MAX_SYMLINKS`] expansions, then Loop). A final symlink is
    /// followed only if `follow_final_symlink`; a trailing slash demands a directory and
    /// therefore always follows a final symlink (POSIX 4.13). With `confine`, an absolute
    /// path, a `..` above `base_dir` or an absolute symlink target is Escape; without it,
    /// absolute paths start at the root and `..` of the root is the root. Errors: NotFound
    /// (missing component, empty path), NotDir (`base_dir` or a middle component not a
    /// directory, `file/`), NameTooLong (component over [`MAX_NAME_LEN`]), Invalid (NUL).
    pub fn resolve(
        &self,
        base_dir: Ino,
        path: &str,
        follow_final_symlink: bool,
        confine: bool,
    ) -> Result<Ino> {
        let parsed = parse_path(path)?;
        let mut walker = Walker::new(self, base_dir, parsed.absolute, confine)?;
        let mut todo: Vec<String> = Vec::with_capacity(parsed.components.len() + 1);
        if parsed.trailing_slash {
            todo.push(".".to_string());
        }
        todo.extend(parsed.components.iter().rev().map(|c| c.to_string()));
        walker.run(&mut todo, follow_final_symlink)?;
        Ok(walker.current())
    }

    /// Resolves all but the last component of `path` (following every symlink on the way)
    /// and returns the directory the last component is to be found or created in, with that
    /// component, for the name-taking operations (`create_file`, `mkdir`, `unlink`, ...).
    ///
    /// The returned name:
    /// - is never empty and never contains `/`, except that a trailing slash on the path is
    ///   kept as one trailing `/` (`"a/b//"` → `(a, "b/")`): the operations treat it as
    ///   "must be a directory" with Linux's errors (`unlink("f/")` NotDir, `mkdir("d/")`
    ///   fine, `create_file("f/")` IsDir);
    /// - may be `.` or `..` (`"a/."` → `(a, ".")`, `"a/.."` → `(a, "..")`): the name
    ///   operations then give the errors Linux gives (`mkdir` Exists, `rmdir(".")` Invalid,
    ///   `rmdir("..")` NotEmpty, `unlink` IsDir, `rename` Busy, `create_file` IsDir/Exists);
    ///   with `confine`, a final `..` naming the parent of `base_dir` is Escape;
    /// - is `.` for a path with no components, i.e. only slashes (`"/"` unconfined →
    ///   `(root, ".")`).
    ///
    /// The final component is not followed even if it is a symlink (the caller decides:
    /// `unlink` removes the link, `path_open` resolves it). Errors as in [`Vfs::resolve`];
    /// the returned directory is a directory (else NotDir).
    pub fn resolve_parent(
        &self,
        base_dir: Ino,
        path: &str,
        confine: bool,
    ) -> Result<(Ino, String)> {
        let parsed = parse_path(path)?;
        let mut walker = Walker::new(self, base_dir, parsed.absolute, confine)?;
        let Some((last, prefix)) = parsed.components.split_last() else {
            return Ok((walker.current(), ".".to_string()));
        };
        let mut todo: Vec<String> = prefix.iter().rev().map(|c| c.to_string()).collect();
        walker.run(&mut todo, true)?;
        let dir = walker.current();
        self.entries(dir)?;
        if *last == ".." && confine && walker.stack.len() == 1 {
            return Err(Error::Escape);
        }
        let mut name = last.to_string();
        if parsed.trailing_slash && *last != "." && *last != ".." {
            name.push('/');
        }
        Ok((dir, name))
    }

    /// `open(path, O_CREAT)` in one call: resolves `path` from `base_dir` and returns the
    /// regular file it names, creating it (`created == true`) if the final component does
    /// not exist. Unlike [`Vfs::create_file`] (which never follows), a final symlink is
    /// followed when `follow_final_symlink` and not `exclusive`, and a dangling one creates
    /// its target, as POSIX `open` does (`O_EXCL` implies not following: the link itself
    /// exists, so Exists). Confinement applies to every step, symlink targets included.
    /// Errors as [`Vfs::resolve_parent`] plus those of [`Vfs::create_file`] (IsDir for a
    /// directory or a trailing slash, Loop for a final symlink not followed).
    pub fn create_file_at(
        &mut self,
        base_dir: Ino,
        path: &str,
        follow_final_symlink: bool,
        exclusive: bool,
        confine: bool,
    ) -> Result<(Ino, bool)> {
        let parsed = parse_path(path)?;
        let (dir, name) = {
            let mut walker = Walker::new(self, base_dir, parsed.absolute, confine)?;
            let mut todo: Vec<String> = parsed
                .components
                .iter()
                .rev()
                .map(|c| c.to_string())
                .collect();
            loop {
                let Some(last) = walker.run_to_last(&mut todo)? else {
                    // Only slashes (or a symlink to "/"): the directory itself.
                    break (walker.current(), ".".to_string());
                };
                let dir = walker.current();
                let entries = self.entries(dir)?;
                if last == ".." && confine && walker.stack.len() == 1 {
                    return Err(Error::Escape);
                }
                let is_symlink = entries
                    .get(last.as_str())
                    .and_then(|&ino| self.node(ino).ok())
                    .is_some_and(|node| matches!(node.body, Body::Symlink(_)));
                if is_symlink && follow_final_symlink && !exclusive && !parsed.trailing_slash {
                    // Expand it and resolve again; `step` counts it against the limit.
                    walker.step(&last, &mut todo, true)?;
                    continue;
                }
                break (dir, last);
            }
        };
        let name = if parsed.trailing_slash && name != "." && name != ".." {
            alloc::format!("{name}/")
        } else {
            name
        };
        self.create_file(dir, &name, exclusive)
    }
}
