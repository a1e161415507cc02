# Run by crates/clew/tests/python.rs and tests/tools/bench_python.sh with the directory
# holding this script mapped as /work: writes a file there, reads it back, lists the dir.
import os

path = "/work/out.txt"
with open(path, "w") as f:
    f.write("written by CPython\n" * 3)
with open(path) as f:
    data = f.read()
print("read back", len(data), "bytes, lines:", data.count("\n"))
print("listing:", sorted(os.listdir("/work")))
