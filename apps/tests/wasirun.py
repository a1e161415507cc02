#!/usr/bin/env python3
"""Run one WASI preview1 command module on the host with wasmtime-py.

Usage (a subset of `wasmtime run` / `clew run --host`):
    wasirun.py [--dir HOST[::GUEST]]... [--env K=V]... [--argv0 NAME] prog.wasm [ARGS]...

stdin, stdout and stderr are the runner's own (inherited); the exit code is the
program's (proc_exit / return from main), 134 with a one-line diagnosis on stderr
for a trap. Needs `pip install wasmtime`.
"""
import sys

import wasmtime


def usage(msg):
    sys.stderr.write(f"wasirun: {msg}\n")
    sys.stderr.write(
        "usage: wasirun.py [--dir HOST[::GUEST]]... [--env K=V]... [--argv0 NAME] prog.wasm [ARGS]...\n")
    sys.exit(2)


def main(argv):
    dirs, env, argv0 = [], [], None
    i = 0
    while i < len(argv) and argv[i].startswith("--"):
        opt = argv[i]
        if opt == "--":
            i += 1
            break
        if i + 1 >= len(argv):
            usage(f"{opt} needs a value")
        val = argv[i + 1]
        if opt == "--dir":
            host, _, guest = val.partition("::")
            dirs.append((host, guest or host))
        elif opt == "--env":
            if "=" not in val:
                usage(f"--env {val}: expected K=V")
            env.append(tuple(val.split("=", 1)))
        elif opt == "--argv0":
            argv0 = val
        else:
            usage(f"unknown option {opt}")
        i += 2
    if i >= len(argv):
        usage("missing module")
    prog, args = argv[i], argv[i + 1:]

    cfg = wasmtime.WasiConfig()
    cfg.argv = [argv0 or prog] + args
    cfg.env = env
    for host, guest in dirs:
        cfg.preopen_dir(host, guest)
    cfg.inherit_stdin()
    cfg.inherit_stdout()
    cfg.inherit_stderr()

    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    store.set_wasi(cfg)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    try:
        module = wasmtime.Module.from_file(engine, prog)
        inst = linker.instantiate(store, module)
        start = inst.exports(store)["_start"]
    except (wasmtime.WasmtimeError, FileNotFoundError, KeyError) as e:
        sys.stderr.write(f"wasirun: {prog}: {e}\n")
        return 2
    sys.stdout.flush()
    try:
        start(store)
    except wasmtime.ExitTrap as e:
        return e.code
    except wasmtime.Trap as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else "trap"
        sys.stderr.write(f"wasirun: {prog}: trap: {first}\n")
        return 134
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
