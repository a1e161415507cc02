#!/usr/bin/env python3
"""Measures the time from starting QEMU to the first `clew> ` prompt on COM1.

Usage: kernel/boot-time.py [RUNS]   (needs a release build of the kernel)
Boots the kernel exactly as the host tool does, answers `poweroff` at the prompt, and prints
the prompt latency of each run plus the median.
"""
import os, statistics, subprocess, sys, time

K = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                 "target/x86_64-unknown-linux-gnu/release/clew-kernel")
os.makedirs("/tmp/clew-kernel", exist_ok=True)
cmd = ["qemu-system-x86_64", "-kernel", K, "-m", "1024", "-display", "none", "-no-reboot",
       "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
       "-chardev", "stdio,id=con,signal=off", "-serial", "chardev:con",
       "-serial", "file:/tmp/clew-kernel/kernel.log", "-initrd", K + " symbols", "-append", ""]
runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
times = []
for _ in range(runs):
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    seen = b""
    while b"clew> " not in seen:
        b = p.stdout.read(1)
        if not b:
            sys.exit("QEMU ended before the prompt")
        seen += b
    times.append(time.monotonic() - t0)
    p.stdin.write(b"poweroff\n")
    p.stdin.flush()
    p.wait(timeout=60)
    assert p.returncode == 0, p.returncode
print("prompt after: " + ", ".join(f"{t * 1000:.0f} ms" for t in times))
print(f"median {statistics.median(times) * 1000:.0f} ms")
