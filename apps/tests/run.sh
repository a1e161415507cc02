#!/usr/bin/env bash
# Build every apps/*.c program and run the cases of apps/tests/cases.txt
# through a WASI runtime, comparing stdout, the exit code, and (when expected
# files say so) stderr and the state of the fixture directory afterwards.
#
# Usage: apps/tests/run.sh [NAME-SUBSTRING...]     (no argument: all cases)
# Environment:
#   RUNNER   the WASI runner command, called as
#              $RUNNER --env CLEW_TEST=1 --dir HOST::/d PROG.wasm ARGS... <STDIN
#            default: python3 apps/tests/wasirun.py (needs `pip install wasmtime`);
#            e.g. RUNNER="target/debug/clew run --host" or "wasmtime run".
#   CC       the C compiler (default clang); flags are fixed, see apps/README.md
#   UPDATE=1 write the expected files from the actual results (review the diff!)
#   KEEP=1   keep the temporary directory
# The case format is documented in apps/README.md.
set -u

here=$(cd "$(dirname "$0")" && pwd)
apps=$(dirname "$here")
CC=${CC:-clang}
CFLAGS="--target=wasm32-wasi -O2 -Wall -Wextra -Werror"
RUNNER=${RUNNER:-python3 $here/wasirun.py}
FIXED_MTIME=978307200 # 2001-01-01T00:00:00Z, stamped on every fixture entry

tmp=$(mktemp -d "${TMPDIR:-/tmp}/clew-apps.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then
    echo "keeping $tmp"
else
    trap 'rm -rf "$tmp"' EXIT
fi
mkdir -p "$tmp/bin" "$tmp/work" "$tmp/pristine"

# 1. Build: one command per program, the same flags for all.
build_failed=0
for src in "$apps"/*.c; do
    prog=$(basename "$src" .c)
    if ! $CC $CFLAGS "$src" -o "$tmp/bin/$prog.wasm"; then
        echo "BUILD FAIL $prog"
        build_failed=1
    fi
done
[ "$build_failed" = 0 ] || exit 1

# Split a command string into the array `words`: blanks separate words,
# '...' groups characters (including blanks) into a word, no other quoting.
split_words() {
    local s=$1 w="" inword=0 c i
    words=()
    for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        if [ "$c" = "'" ]; then
            local rest=${s:i+1}
            local quoted=${rest%%\'*}
            if [ "$quoted" = "$rest" ]; then
                echo "unterminated quote in: $s" >&2
                return 1
            fi
            w+=$quoted
            inword=1
            i=$((i + ${#quoted} + 1))
        elif [ "$c" = " " ] || [ "$c" = $'\t' ]; then
            if [ "$inword" = 1 ]; then words+=("$w"); fi
            w="" inword=0
        else
            w+=$c
            inword=1
        fi
    done
    if [ "$inword" = 1 ]; then words+=("$w"); fi
    return 0
}

# The state of a directory tree, one line per entry, sorted bytewise:
#   DIR/            a directory
#   FILE SIZE       a file and its size in bytes, with " modified" appended
#                   when its mtime is no longer the fixture stamp
#   LINK -> TARGET  a symbolic link
tree_of() {
    (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | while IFS= read -r p; do
        p=${p#./}
        if [ -L "$p" ]; then
            echo "$p -> $(readlink "$p")"
        elif [ -d "$p" ]; then
            echo "$p/"
        else
            m=""
            [ "$(stat -c %Y "$p")" != "$FIXED_MTIME" ] && m=" modified"
            echo "$p $(wc -c <"$p")$m"
        fi
    done)
}

# Copy a fixture to `dest` and stamp every entry with FIXED_MTIME.
prepare_fixture() {
    local fixture=$1 dest=$2
    rm -rf "$dest"
    mkdir -p "$dest"
    if [ "$fixture" != "-" ]; then
        cp -R "$here/fixtures/$fixture/." "$dest/"
    fi
    find "$dest" -mindepth 1 -exec touch -h -d "@$FIXED_MTIME" {} +
}

pass=0 fail=0 total=0
failed_names=()
check() { # name what expected-file actual-file
    if ! cmp -s "$3" "$4"; then
        echo "FAIL $1: $2 differs (expected vs actual):"
        diff "$3" "$4" | head -20 | sed 's/^/    /'
        return 1
    fi
}

lineno=0
while IFS= read -r line || [ -n "$line" ]; do
    lineno=$((lineno + 1))
    case $line in '' | '#'*) continue ;; esac
    IFS='|' read -r name code stdin fixture cmd <<<"$line"
    name=$(echo $name) code=$(echo $code) stdin=$(echo $stdin) fixture=$(echo $fixture)
    cmd=${cmd#"${cmd%%[! ]*}"}
    if [ $# -gt 0 ]; then
        selected=0
        for pat in "$@"; do case $name in *"$pat"*) selected=1 ;; esac; done
        [ "$selected" = 1 ] || continue
    fi
    total=$((total + 1))
    if ! split_words "$cmd" || [ ${#words[@]} = 0 ]; then
        echo "FAIL $name: cases.txt:$lineno: bad command"
        fail=$((fail + 1)); failed_names+=("$name"); continue
    fi
    prog=${words[0]}
    args=("${words[@]:1}")
    work="$tmp/work/$name"
    pristine="$tmp/pristine/$name"
    prepare_fixture "$fixture" "$work"
    prepare_fixture "$fixture" "$pristine"
    in=/dev/null
    [ "$stdin" != "-" ] && in="$here/input/$stdin"
    out="$tmp/$name.out" err="$tmp/$name.err" tree="$tmp/$name.tree"

    # shellcheck disable=SC2086 # RUNNER is a command line on purpose
    $RUNNER --env CLEW_TEST=1 --dir "$work::/d" "$tmp/bin/$prog.wasm" "${args[@]}" \
        <"$in" >"$out" 2>"$err"
    rc=$?
    tree_of "$work" >"$tree"

    exp="$here/expected/$name"
    if [ "${UPDATE:-0}" = 1 ]; then
        cp "$out" "$exp.out"
        if [ -s "$err" ]; then cp "$err" "$exp.err"; else rm -f "$exp.err"; fi
        if tree_of "$pristine" | cmp -s - "$tree"; then rm -f "$exp.tree"; else cp "$tree" "$exp.tree"; fi
    fi

    ok=1
    if [ "$rc" != "$code" ]; then
        echo "FAIL $name: exit code $rc, expected $code"
        sed 's/^/    stderr: /' "$err" | head -5
        ok=0
    fi
    if [ ! -f "$exp.out" ]; then
        echo "FAIL $name: missing expected/$name.out"
        ok=0
    else
        check "$name" stdout "$exp.out" "$out" || ok=0
    fi
    if [ -f "$exp.err" ]; then
        check "$name" stderr "$exp.err" "$err" || ok=0
    fi
    if [ -f "$exp.tree" ]; then
        check "$name" "directory tree" "$exp.tree" "$tree" || ok=0
    else
        tree_of "$pristine" >"$tree.pristine"
        check "$name" "directory tree (must be unchanged)" "$tree.pristine" "$tree" || ok=0
    fi
    if [ "$ok" = 1 ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1)); failed_names+=("$name")
    fi
done <"$here/cases.txt"

echo "apps tests: $pass passed, $fail failed, $total total (runner: $RUNNER)"
[ "$fail" = 0 ] || { echo "failed: ${failed_names[*]}"; exit 1; }
