;; A `wasi_unstable` (WASI snapshot 0) program: the four calls whose bytes differ from
;; preview1 (snapshot 0's witx: `whence` is cur, end, set; `filestat` has a u32 `nlink`
;; and is 56 bytes; a clock subscription starts with a u64 `identifier`, so a subscription
;; is 56 bytes). Prints Y or N per check, then a newline; creates `f.txt` in the preopened
;; directory (fd 3). The wasmtime CLI 49 agrees on the first nine checks; its `poll_oneoff`
;; for snapshot 0 rewrites the subscriptions in place into preview1's layout but reads
;; them back with preview1's 48-byte stride, so with more than one subscription it misreads
;; the second (EINVAL here) and, having failed, leaves them overwritten.
(module
  (import "wasi_unstable" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_unstable" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_unstable" "fd_seek" (func $fd_seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_unstable" "fd_filestat_get" (func $fd_filestat_get (param i32 i32) (result i32)))
  (import "wasi_unstable" "path_filestat_get" (func $path_filestat_get (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_unstable" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 300) "f.txt")
  (data (i32.const 310) "0123456789")
  (global $fd (mut i32) (i32.const 0))
  ;; writes `len` bytes at `ptr` to `fd`
  (func $write (param $fd i32) (param $ptr i32) (param $len i32) (result i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8)))
  ;; prints Y for true, N for false
  (func $check (param $ok i32)
    (i32.store8 (i32.const 100) (select (i32.const 89) (i32.const 78) (local.get $ok)))
    (drop (call $write (i32.const 1) (i32.const 100) (i32.const 1))))
  ;; fd_seek in snapshot 0's whence; true if it succeeds at `expect`
  (func $seek (param $off i64) (param $whence i32) (param $expect i64) (result i32)
    (i32.and
      (i32.eqz (call $fd_seek (global.get $fd) (local.get $off) (local.get $whence) (i32.const 16)))
      (i64.eq (i64.load (i32.const 16)) (local.get $expect))))
  ;; a filestat at 1000 with a sentinel after its 56 bytes: regular file of 10 bytes, 1 link
  (func $stat_ok (result i32)
    (i32.and
      (i32.and
        (i32.eq (i32.load8_u (i32.const 1016)) (i32.const 4))
        (i32.eq (i32.load (i32.const 1020)) (i32.const 1)))
      (i32.and
        (i64.eq (i64.load (i32.const 1024)) (i64.const 10))
        (i64.eq (i64.load (i32.const 1056)) (i64.const 0x5a5a5a5a5a5a5a5a)))))
  (func (export "_start")
    ;; path_open(3, follow, "f.txt", CREAT|TRUNC, rights all, 0, 0) -> fd at 20
    (call $check (i32.eqz (call $path_open (i32.const 3) (i32.const 1) (i32.const 300) (i32.const 5)
      (i32.const 9) (i64.const 0x1fffffff) (i64.const 0x1fffffff) (i32.const 0) (i32.const 20))))
    (global.set $fd (i32.load (i32.const 20)))
    (call $check (i32.eqz (call $write (global.get $fd) (i32.const 310) (i32.const 10))))
    ;; end - 3 = 7; set 2 = 2; cur + 1 = 3
    (call $check (call $seek (i64.const -3) (i32.const 1) (i64.const 7)))
    (call $check (call $seek (i64.const 2) (i32.const 2) (i64.const 2)))
    (call $check (call $seek (i64.const 1) (i32.const 0) (i64.const 3)))
    ;; filestats in the 56-byte layout
    (i64.store (i32.const 1056) (i64.const 0x5a5a5a5a5a5a5a5a))
    (call $check (i32.eqz (call $fd_filestat_get (global.get $fd) (i32.const 1000))))
    (call $check (call $stat_ok))
    (memory.fill (i32.const 1000) (i32.const 0) (i32.const 56))
    (call $check (i32.eqz (call $path_filestat_get (i32.const 3) (i32.const 1) (i32.const 300) (i32.const 5) (i32.const 1000))))
    (call $check (call $stat_ok))
    ;; poll_oneoff: one relative monotonic clock of 200 ms (long enough not to be due yet
    ;; on a loaded machine, where 1 ms was), whose identifier (77) sits where preview1
    ;; reads the clock id; a second subscription after 56 bytes reads stdout
    (i64.store (i32.const 2000) (i64.const 0x1234))
    (i32.store8 (i32.const 2008) (i32.const 0))
    (i64.store (i32.const 2016) (i64.const 77))
    (i32.store (i32.const 2024) (i32.const 1))
    (i64.store (i32.const 2032) (i64.const 200000000))
    (i64.store (i32.const 2040) (i64.const 0))
    (i32.store16 (i32.const 2048) (i32.const 0))
    (i64.store (i32.const 2056) (i64.const 0x5678))
    (i32.store8 (i32.const 2064) (i32.const 2))
    (i32.store (i32.const 2072) (i32.const 1))
    (call $check (i32.eqz (call $poll_oneoff (i32.const 2000) (i32.const 3000) (i32.const 2) (i32.const 24))))
    ;; stdout is writable at once: one event, for the second subscription
    (call $check (i32.eq (i32.load (i32.const 24)) (i32.const 1)))
    (call $check (i64.eq (i64.load (i32.const 3000)) (i64.const 0x5678)))
    (call $check (i32.eq (i32.load8_u (i32.const 3010)) (i32.const 2)))
    ;; the clock alone: its event once it is due
    (call $check (i32.eqz (call $poll_oneoff (i32.const 2000) (i32.const 3000) (i32.const 1) (i32.const 24))))
    (call $check (i64.eq (i64.load (i32.const 3000)) (i64.const 0x1234)))
    (call $check (i32.eqz (i32.load8_u (i32.const 3010))))
    (i32.store8 (i32.const 100) (i32.const 10))
    (drop (call $write (i32.const 1) (i32.const 100) (i32.const 1)))))
