;; A compute loop: 5,000,000 iterations of add/compare/branch (fuel cost measurement).
(module
  (memory (export "memory") 1)
  (global $sink (mut i32) (i32.const 0))
  (func $main (export "_start") (local $i i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.xor (local.get $acc) (i32.mul (local.get $i) (i32.const 31))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.ne (local.get $i) (i32.const 5000000))))
    (global.set $sink (local.get $acc))))
