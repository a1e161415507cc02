;; Traps with "integer divide by zero" in the function named `main`.
(module
  (memory (export "memory") 1)
  (func $main (param $d i32) (result i32)
    (i32.div_s (i32.const 1) (local.get $d)))
  (func (export "_start")
    (drop (call $main (i32.const 0)))))
