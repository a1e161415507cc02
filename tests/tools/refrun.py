#!/usr/bin/env python3
"""Reference WASI runner: runs a wasm32-wasi (preview1) command like `wasmtime run`,
through the wasmtime Python API (PyPI `wasmtime`, which bundles libwasmtime).

    refrun.py [--dir HOST[::GUEST]]... [--env NAME=VAL]... [--argv0 NAME] prog.wasm [ARGS]...

stdin, stdout and stderr are this process's; the exit code is the program's
(`proc_exit` code, 0 when `_start` returns). As with `wasmtime run` on Unix: a wasm trap
prints `Error: <trap>` on stderr and exits with 134 (128 + SIGABRT: the CLI aborts); any
other error while running (e.g. a WASI function failing on an out-of-bounds pointer, which
wasmtime's preview1 raises as a host error, not a `Trap`) prints `Error: ...` and exits
with 1, as the CLI's `main` returning that error does.
Used to generate the expected outputs of tests/wasi (see tests/tools/gen_expected.py).
"""

import os
import sys
import tempfile

import wasmtime


def parse(argv):
    dirs, envs, argv0 = [], [], None
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            i += 1
            break
        if not a.startswith("--"):
            break
        if "=" in a:
            key, val = a.split("=", 1)
            i += 1
        else:
            key = a
            if i + 1 >= len(argv):
                sys.exit(f"refrun: {a} needs a value")
            val = argv[i + 1]
            i += 2
        if key == "--dir":
            host, _, guest = val.partition("::")
            dirs.append((host, guest or host))
        elif key == "--env":
            name, eq, value = val.partition("=")
            envs.append((name, value if eq else os.environ.get(name, "")))
        elif key == "--argv0":
            argv0 = val
        else:
            sys.exit(f"refrun: unknown option {key}")
    if i >= len(argv):
        sys.exit(__doc__)
    return dirs, envs, argv0, argv[i], argv[i + 1 :]


def main():
    dirs, envs, argv0, module_path, args = parse(sys.argv[1:])
    engine = wasmtime.Engine()
    module = wasmtime.Module.from_file(engine, module_path)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    store = wasmtime.Store(engine)

    cfg = wasmtime.WasiConfig()
    cfg.argv = [argv0 if argv0 is not None else module_path] + args
    cfg.env = envs
    for host, guest in dirs:
        cfg.preopen_dir(host, guest)
    cfg.inherit_stdin()
    # Capture through files so that the bytes are exact and the order of our own
    # output (the trap message) relative to the program's is well defined.
    with tempfile.TemporaryDirectory() as tmp:
        out_path, err_path = os.path.join(tmp, "out"), os.path.join(tmp, "err")
        cfg.stdout_file = out_path
        cfg.stderr_file = err_path
        store.set_wasi(cfg)
        code, trap = 0, None
        try:
            instance = linker.instantiate(store, module)
            instance.exports(store)["_start"](store)
        except wasmtime.ExitTrap as e:
            code = e.code
        except wasmtime.Trap as e:
            code, trap = 134, e
        except wasmtime.WasmtimeError as e:
            code, trap = 1, e
        for path, stream in ((out_path, sys.stdout), (err_path, sys.stderr)):
            with open(path, "rb") as f:
                stream.buffer.write(f.read())
            stream.flush()
    if trap is not None:
        first = " ".join(str(trap).split()) or "trap"
        sys.stderr.write(f"Error: {first}\n")
        sys.stderr.flush()
    sys.exit(code)


if __name__ == "__main__":
    main()
