#!/bin/sh
# Boots the release kernel under QEMU the way the host tool does.
# Usage: kernel/run-qemu.sh [MEMORY_MIB] [CMDLINE]   (stdin = console input)
K="$(dirname "$0")/target/x86_64-unknown-linux-gnu/release/clew-kernel"
mkdir -p /tmp/clew-kernel
exec timeout 120 qemu-system-x86_64 -kernel "$K" -m "${1:-1024}" -display none -no-reboot \
  -device isa-debug-exit,iobase=0xf4,iosize=0x04 -chardev stdio,id=con,signal=off \
  -serial chardev:con -serial file:/tmp/clew-kernel/kernel.log -initrd "$K symbols" -append "${2:-}"
