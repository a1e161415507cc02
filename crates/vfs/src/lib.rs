//! The Clew filesystem (no_std): inode tree, path resolution, ramfs, boot archive.
#![cfg_attr(not(test), no_std)]
