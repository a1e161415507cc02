#!/usr/bin/env python3
"""Generates tests/wasi/expected/ from the reference runtime (refrun.py: wasmtime from PyPI).

    gen_expected.py [NAME...]      (default: every case of tests/wasi/cases.toml)

Each case is run exactly as crates/clew/tests/wasi_host.rs runs `clew run --host`: the
program compiled by clang into target/tmp/wasi-tests/wasm/HASH/WASM.wasm (the same cache,
CARGO_TARGET_TMPDIR), a
fresh copy of tests/wasi/fixtures as the --dir root, stdin from tests/wasi/stdin/ or empty.
Writes expected/NAME.stdout, .stderr (unless stderr = "any"), .exit and .tree (when the
case has dirs). For a case with reference_differs, the expectations are hand-written to
the witx: the reference's results go to expected/NAME.ref.* instead, and the difference
is printed. The tree format is described in tree() and must match wasi_host.rs.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import tomllib

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
WASI = os.path.join(ROOT, "tests", "wasi")
EXPECTED = os.path.join(WASI, "expected")
CLANG_FLAGS = ["--target=wasm32-wasi", "-O2", "-I", WASI]
OLD_MTIME_NS = 978307200 * 10**9  # 2001-01-01: older mtimes were set by a test, and shown


def fnv1a64(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def wasm_path(name: str) -> str:
    """Compiles tests/wasi/NAME.c unless cached; the key hashes flags, source and common.h.
    A reactor_* program is compiled as a reactor (-mexec-model=reactor), as wasi_host.rs does."""
    src = open(os.path.join(WASI, name + ".c"), "rb").read()
    common = open(os.path.join(WASI, "common.h"), "rb").read()
    flags = CLANG_FLAGS[:2] + (["-mexec-model=reactor"] if name.startswith("reactor_") else [])
    key = fnv1a64(" ".join(flags).encode() + b"\0" + src + b"\0" + common)
    out_dir = os.path.join(ROOT, "target", "tmp", "wasi-tests", "wasm", f"{key:016x}")
    out = os.path.join(out_dir, name + ".wasm")
    if not os.path.exists(out):
        os.makedirs(out_dir, exist_ok=True)
        tmp = out + ".tmp"
        subprocess.run(["clang", *flags, *CLANG_FLAGS[2:], os.path.join(WASI, name + ".c"), "-o", tmp], check=True)
        os.rename(tmp, out)
    return out


def escape(data: bytes) -> str:
    out = []
    for b in data:
        if b == 0x5C:
            out.append("\\\\")
        elif b == 0x22:
            out.append('\\"')
        elif b == 0x0A:
            out.append("\\n")
        elif b == 0x09:
            out.append("\\t")
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        else:
            out.append(f"\\x{b:02x}")
    return "".join(out)


def tree(root: str) -> str:
    """One line per entry under root, sorted by path bytes:
    `d PATH`, `f PATH SIZE "CONTENT"` (content escaped as in escape(), or `#FNV1A64HEX` over
    512 bytes), `l PATH -> TARGET`; files and dirs get ` mtime=NS` when their mtime is before
    2001 (set by the test) and files ` links=N` when N > 1."""
    lines = []

    def walk(rel: bytes):
        full = os.path.join(root.encode(), rel) if rel else root.encode()
        for name in sorted(os.listdir(full)):
            p = rel + b"/" + name if rel else name
            fp = os.path.join(full, name)
            st = os.lstat(fp)
            shown = p.decode("utf-8", "surrogateescape")
            extra = f" mtime={st.st_mtime_ns}" if st.st_mtime_ns < OLD_MTIME_NS else ""
            if os.path.islink(fp):
                lines.append(f"l {shown} -> {os.readlink(fp).decode('utf-8', 'surrogateescape')}")
            elif os.path.isdir(fp):
                lines.append(f"d {shown}{extra}")
                walk(p)
            else:
                data = open(fp, "rb").read()
                body = f'"{escape(data)}"' if len(data) <= 512 else f"#{fnv1a64(data):016x}"
                links = f" links={st.st_nlink}" if st.st_nlink > 1 else ""
                lines.append(f"f {shown} {len(data)} {body}{extra}{links}")

    walk(b"")
    return "".join(line + "\n" for line in lines)


def run_case(case: dict) -> dict:
    wasm = wasm_path(case["wasm"])
    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(tmp, "root")
        shutil.copytree(os.path.join(WASI, "fixtures"), root, symlinks=True)
        cmd = [sys.executable, os.path.join(ROOT, "tests", "tools", "refrun.py")]
        for d in case.get("dirs", []):
            host, guest = d.split("::", 1)
            cmd += ["--dir", os.path.join(root, host) + "::" + guest]
        for e in case.get("env", []):
            cmd += ["--env", e]
        if "argv0" in case:
            cmd += ["--argv0", case["argv0"]]
        cmd += case.get("flags", [])
        cmd += [wasm, *case.get("args", [])]
        stdin = open(os.path.join(WASI, "stdin", case["stdin"]), "rb") if "stdin" in case else subprocess.DEVNULL
        p = subprocess.run(cmd, stdin=stdin, capture_output=True, timeout=120)
        out = {"stdout": p.stdout, "exit": f"{p.returncode}\n".encode()}
        if case.get("stderr") != "any":
            out["stderr"] = p.stderr
        if case.get("dirs"):
            out["tree"] = tree(root).encode()
        return out


def main():
    cases = tomllib.load(open(os.path.join(WASI, "cases.toml"), "rb"))["case"]
    only = set(sys.argv[1:])
    os.makedirs(EXPECTED, exist_ok=True)
    for case in cases:
        name = case["name"]
        if only and name not in only:
            continue
        got = run_case(case)
        differs = "reference_differs" in case
        for kind, data in got.items():
            path = os.path.join(EXPECTED, f"{name}.{kind}")
            if differs:
                open(os.path.join(EXPECTED, f"{name}.ref.{kind}"), "wb").write(data)
                if not os.path.exists(path):
                    open(path, "wb").write(data)
                    print(f"{name}.{kind}: written from the reference, edit it to the witx")
                elif open(path, "rb").read() != data:
                    print(f"{name}.{kind}: hand-written, differs from the reference (expected)")
            else:
                open(path, "wb").write(data)
        print(f"{name}: exit {got['exit'].decode().strip()}")


if __name__ == "__main__":
    main()
