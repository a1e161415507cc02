;; One export per proposal the native tier must run (issue 5 item 5); each returns 1 when
;; its checks hold. `_start` runs them all and exits with the number of the first failing
;; one (0: all pass). Assembled by build.rs with the `wat` crate; the padded
;; `call_indirect` table index is made by build.rs (see `pad_call_indirect`).
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (type $i2i (func (param i32) (result i32)))
  (type $v2i (func (result i32)))
  (tag $e32 (param i32))
  (tag $other)
  (table $t 4 funcref)
  (elem (table $t) (i32.const 0) func $double $triple)
  (global $g i32 (i32.add (i32.const 40) (i32.mul (i32.const 1) (i32.const 2))))

  (func $double (type $i2i) (i32.mul (local.get 0) (i32.const 2)))
  (func $triple (type $i2i) (i32.mul (local.get 0) (i32.const 3)))

  ;; try_table/catch with a payload, throw, catch_ref + throw_ref (rethrow), catch_all.
  (func $thrower (param i32) (throw $e32 (local.get 0)))
  (func $exceptions (export "exceptions") (result i32)
    (local $sum i32)
    (block $h (result i32)
      (try_table (catch $e32 $h) (call $thrower (i32.const 7)))
      (i32.const 0))
    (local.set $sum)
    ;; rethrow through throw_ref, caught again outside
    (block $outer (result i32)
      (try_table (catch $e32 $outer)
        (block $inner (result i32 exnref)
          (try_table (catch_ref $e32 $inner) (call $thrower (i32.const 35)))
          (unreachable))
        (throw_ref))
      (i32.const 0))
    (local.set $sum (i32.add (local.get $sum)))
    (block $all
      (try_table (catch_all $all) (throw $other))
      (return (i32.const 0)))
    (i32.eq (local.get $sum) (i32.const 42)))

  (func $simd (export "simd") (result i32)
    (local $v v128)
    (local.set $v (i32x4.add (v128.const i32x4 1 2 3 4) (v128.const i32x4 10 20 30 40)))
    (local.set $v (i32x4.mul (local.get $v) (i32x4.splat (i32.const 2))))
    (v128.store (i32.const 64) (local.get $v))
    (i32.and
      (i32.eq (i32x4.extract_lane 3 (local.get $v)) (i32.const 88))
      (i32.eq (i32.load (i32.const 68)) (i32.const 44))))

  ;; Atomics on a non-shared memory (what wasi-sdk's libc emits).
  (func $atomics (export "atomics") (result i32)
    (i32.atomic.store (i32.const 128) (i32.const 5))
    (drop (i32.atomic.rmw.add (i32.const 128) (i32.const 3)))
    (drop (i32.atomic.rmw.cmpxchg (i32.const 128) (i32.const 8) (i32.const 9)))
    (atomic.fence)
    (i32.eq (i32.atomic.load (i32.const 128)) (i32.const 9)))

  (func $pair (result i32 i32) (i32.const 3) (i32.const 4))
  (func $multi_value (export "multi_value") (result i32)
    (call $pair)
    (i32.sub)
    (i32.eq (i32.const -1)))

  ;; Reference types: ref.func/ref.is_null, table.get/set/size, call_indirect (whose table
  ;; index build.rs pads to 5 bytes).
  (func $reftypes (export "reftypes") (result i32)
    (table.set $t (i32.const 2) (ref.func $triple))
    (i32.and
      (i32.and
        (i32.eqz (ref.is_null (table.get $t (i32.const 2))))
        (i32.eq (table.size $t) (i32.const 4)))
      (i32.eq
        (call_indirect $t (type $i2i) (i32.const 5) (i32.const 1))
        (i32.const 15))))

  (func $bulk_memory (export "bulk_memory") (result i32)
    (memory.fill (i32.const 256) (i32.const 0xab) (i32.const 16))
    (memory.copy (i32.const 512) (i32.const 256) (i32.const 16))
    (i32.eq (i32.load8_u (i32.const 527)) (i32.const 0xab)))

  (func $sign_ext (export "sign_ext") (result i32)
    (i32.and
      (i32.eq (i32.extend8_s (i32.const 0x80)) (i32.const -128))
      (i64.eq (i64.extend32_s (i64.const 0x80000000)) (i64.const -2147483648))))

  (func $sat_trunc (export "sat_trunc") (result i32)
    (i32.and
      (i32.eq (i32.trunc_sat_f32_s (f32.const 1e10)) (i32.const 2147483647))
      (i32.eq (i32.trunc_sat_f64_u (f64.const -5)) (i32.const 0))))

  (func $extended_const (export "extended_const") (result i32)
    (i32.eq (global.get $g) (i32.const 42)))

  (func (export "_start")
    (local $r i32)
    (block $done
      (local.set $r (i32.const 1))
      (br_if $done (i32.eqz (call $exceptions)))
      (local.set $r (i32.const 2))
      (br_if $done (i32.eqz (call $simd)))
      (local.set $r (i32.const 3))
      (br_if $done (i32.eqz (call $atomics)))
      (local.set $r (i32.const 4))
      (br_if $done (i32.eqz (call $multi_value)))
      (local.set $r (i32.const 5))
      (br_if $done (i32.eqz (call $reftypes)))
      (local.set $r (i32.const 6))
      (br_if $done (i32.eqz (call $bulk_memory)))
      (local.set $r (i32.const 7))
      (br_if $done (i32.eqz (call $sign_ext)))
      (local.set $r (i32.const 8))
      (br_if $done (i32.eqz (call $sat_trunc)))
      (local.set $r (i32.const 9))
      (br_if $done (i32.eqz (call $extended_const)))
      (local.set $r (i32.const 0)))
    (call $proc_exit (local.get $r))))
