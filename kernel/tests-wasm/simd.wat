;; Keeps eight v128 values live across a long loop (integer and float lanes), then folds
;; them into one i32: any vector register the kernel failed to restore across a context
;; switch changes the result. Precompiled for the `avx2` profile (VEX-encoded SSE/AVX),
;; it is run by several processes at once (test `native_avx_preemption`).
(module
  (func (export "run") (param $n i32) (result i32)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (local $e v128) (local $f v128) (local $g v128) (local $h v128)
    (local.set $a (v128.const i32x4 1 2 3 4))
    (local.set $b (v128.const i32x4 5 6 7 8))
    (local.set $c (v128.const i32x4 9 10 11 12))
    (local.set $d (v128.const i32x4 13 14 15 16))
    (local.set $e (v128.const f32x4 1.5 2.5 3.5 4.5))
    (local.set $f (v128.const f32x4 0.5 0.25 0.125 0.0625))
    (local.set $g (v128.const i16x8 1 2 3 4 5 6 7 8))
    (local.set $h (v128.const i8x16 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16))
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $a (i32x4.add (i32x4.mul (local.get $a) (v128.const i32x4 1103515245 1103515245 1103515245 1103515245)) (local.get $b)))
        (local.set $b (v128.xor (local.get $b) (i32x4.shl (local.get $a) (i32.const 3))))
        (local.set $c (i32x4.add (local.get $c) (i32x4.shr_u (local.get $b) (i32.const 5))))
        (local.set $d (i32x4.sub (local.get $d) (local.get $c)))
        (local.set $e (f32x4.add (f32x4.mul (local.get $e) (v128.const f32x4 0.999 0.998 0.997 0.996)) (local.get $f)))
        (local.set $f (f32x4.min (f32x4.add (local.get $f) (v128.const f32x4 0.001 0.002 0.003 0.004)) (v128.const f32x4 8 8 8 8)))
        (local.set $g (i16x8.add_sat_s (local.get $g) (i16x8.narrow_i32x4_s (local.get $a) (local.get $d))))
        (local.set $h (i8x16.add (local.get $h) (i8x16.swizzle (local.get $g) (v128.const i8x16 15 14 13 12 11 10 9 8 7 6 5 4 3 2 1 0))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))
    (local.set $a (v128.xor (local.get $a) (local.get $b)))
    (local.set $a (v128.xor (local.get $a) (local.get $c)))
    (local.set $a (v128.xor (local.get $a) (local.get $d)))
    (local.set $a (v128.xor (local.get $a) (i32x4.trunc_sat_f32x4_s (f32x4.mul (local.get $e) (v128.const f32x4 1000 1000 1000 1000)))))
    (local.set $a (v128.xor (local.get $a) (i32x4.trunc_sat_f32x4_s (f32x4.mul (local.get $f) (v128.const f32x4 1000 1000 1000 1000)))))
    (local.set $a (v128.xor (local.get $a) (local.get $g)))
    (local.set $a (v128.xor (local.get $a) (local.get $h)))
    (i32.xor
      (i32.xor (i32x4.extract_lane 0 (local.get $a)) (i32x4.extract_lane 1 (local.get $a)))
      (i32.xor (i32x4.extract_lane 2 (local.get $a)) (i32x4.extract_lane 3 (local.get $a))))))
