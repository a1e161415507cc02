//! WASI preview1 (no_std), engine-agnostic.
#![cfg_attr(not(test), no_std)]
