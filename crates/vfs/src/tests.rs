//! Host unit tests: every operation and error path (the conformance base of the WASI
//! layer), path resolution and confinement, open counts, space limits, tar round trips and
//! malformed archives.
