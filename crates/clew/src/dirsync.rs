//! Moves `--dir` trees between the host and Clew: packs a host directory into the boot
//! archive format of the `vfs` crate, and applies an archive the guest sends back to the
//! host directory.
