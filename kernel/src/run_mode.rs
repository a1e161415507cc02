//! `clew run` mode (kernel command line word `run`): no shell; the program described by
//! `/.clew-run` (a `run_protocol::RunSpec`) runs with its stdio on the framed COM1 channel.
//! Filled in below.

/// The run-mode task's body.
pub fn run() {
    crate::power::off()
}
