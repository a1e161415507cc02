#!/usr/bin/env python3
"""Reference WASI runner: runs a wasm32-wasi (preview1) command like `wasmtime run`,
through the wasmtime Python API (PyPI `wasmtime`, which bundles libwasmtime).

    refrun.py [--dir HOST[::GUEST]]... [--env NAME=VAL]... [--argv0 NAME] [--invoke NAME]
              [--memory MiB] [--default-values-unknown-imports] [--trap-unknown-imports]
              prog.wasm [ARGS]...

stdin, stdout and stderr are this process's; the exit code is the program's
(`proc_exit` code, 0 when `_start` returns). As with `wasmtime run` on Unix: a wasm trap
prints `Error: <trap>` on stderr and exits with 134 (128 + SIGABRT: the CLI aborts); any
other error while running (e.g. a WASI function failing on an out-of-bounds pointer, which
wasmtime's preview1 raises as a host error, not a `Trap`) prints `Error: ...` and exits
with 1, as the CLI's `main` returning that error does.
As the CLI does, `_initialize` is called if exported, then `--invoke NAME`, else the
default export "", else `_start` (else nothing), with ARGS parsed by its parameter types,
printing each result on a line of stdout (with the CLI's warnings on stderr); `--memory MiB` caps linear memory (`wasmtime run -W max-memory-size`); the two
unknown-import flags are the CLI's, through the same Linker methods.
Used to generate the expected outputs of tests/wasi (see tests/tools/gen_expected.py).
"""

import os
import sys
import tempfile

import wasmtime


BOOLEAN = ("--default-values-unknown-imports", "--trap-unknown-imports")


def parse(argv):
    dirs, envs, argv0 = [], [], None
    opts = {"invoke": None, "memory": None, "unknown": None}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            i += 1
            break
        if not a.startswith("--"):
            break
        if a in BOOLEAN:
            opts["unknown"] = a
            i += 1
            continue
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
            # A bare NAME inherits the host's value; unset on the host, it is left out
            # (as the wasmtime CLI does).
            if eq:
                envs.append((name, value))
            elif name in os.environ:
                envs.append((name, os.environ[name]))
        elif key == "--argv0":
            argv0 = val
        elif key == "--invoke":
            opts["invoke"] = val
        elif key == "--memory":
            opts["memory"] = int(val)
        else:
            sys.exit(f"refrun: unknown option {key}")
    if i >= len(argv):
        sys.exit(__doc__)
    return dirs, envs, argv0, opts, argv[i], argv[i + 1 :]


def parse_value(ty, text):
    """An --invoke argument as wasmtime run parses it: integers decimal or 0x hex."""
    if ty in (wasmtime.ValType.i32(), wasmtime.ValType.i64()):
        t = text.lower()
        value = int(t[2:], 16) if t.startswith("0x") else int(text, 10)
        return wasmtime.Val.i32(value) if ty == wasmtime.ValType.i32() else wasmtime.Val.i64(value)
    if ty == wasmtime.ValType.f32():
        return wasmtime.Val.f32(float(text))
    if ty == wasmtime.ValType.f64():
        return wasmtime.Val.f64(float(text))
    raise SystemExit(f"refrun: unsupported argument type {ty}")


def show(value):
    """A result as wasmtime run prints it (Rust's Display: 50.0 prints as 50)."""
    if isinstance(value, float):
        return repr(value)[:-2] if value.is_integer() else repr(value)
    return str(value)


def invoke(store, instance, name, args, out):
    """Runs the module as the wasmtime CLI does: `_initialize` if exported, then export
    `name` (`--invoke`), else the default export "", else `_start`, else nothing, with
    `args` parsed by its parameter types; appends the result lines to `out`."""
    exports = instance.exports(store)
    init = exports.get("_initialize")
    if isinstance(init, wasmtime.Func):
        init(store)
    if name is None:
        label = "command default"
        func = next((exports.get(n) for n in ("", "_start")
                     if isinstance(exports.get(n), wasmtime.Func)), None)
        if func is None:
            return
    else:
        label = f"`{name}`"
        func = exports.get(name)
        if not isinstance(func, wasmtime.Func):
            raise wasmtime.WasmtimeError(f"no func export named `{name}` found")
    ty = func.type(store)
    if ty.params:
        sys.stderr.write("warning: using `--invoke` with a function that takes arguments is "
                         "experimental and may break in the future\n")
    if len(args) < len(ty.params):
        raise wasmtime.WasmtimeError(f"not enough arguments for {label}")
    vals = [parse_value(t, a) for t, a in zip(ty.params, args)]
    result = func(store, *vals)
    results = [] if result is None else list(result) if isinstance(result, (list, tuple)) else [result]
    if results:
        sys.stderr.write("warning: using `--invoke` with a function that returns values is "
                         "experimental and may break in the future\n")
    out.extend(show(r) for r in results)


def main():
    dirs, envs, argv0, opts, module_path, args = parse(sys.argv[1:])
    engine = wasmtime.Engine()
    module = wasmtime.Module.from_file(engine, module_path)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    store = wasmtime.Store(engine)
    if opts["memory"] is not None:
        store.set_limits(memory_size=opts["memory"] << 20)
    if opts["unknown"] == "--default-values-unknown-imports":
        linker.define_unknown_imports_as_default_values(store, module)
    elif opts["unknown"] == "--trap-unknown-imports":
        linker.define_unknown_imports_as_traps(module)

    cfg = wasmtime.WasiConfig()
    # argv[0]: the module's file name, as the wasmtime CLI passes it (not the path).
    cfg.argv = [argv0 if argv0 is not None else os.path.basename(module_path)] + args
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
        code, trap, results = 0, None, []
        try:
            instance = linker.instantiate(store, module)
            invoke(store, instance, opts["invoke"], args, results)
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
    for line in results:
        sys.stdout.write(line + "\n")
    sys.stdout.flush()
    if trap is not None:
        first = " ".join(str(trap).split()) or "trap"
        sys.stderr.write(f"Error: {first}\n")
        sys.stderr.flush()
    sys.exit(code)


if __name__ == "__main__":
    main()
