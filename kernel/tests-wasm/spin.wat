;; Loops forever without calling WASI.
(module
  (memory (export "memory") 1)
  (func $main (export "_start")
    (loop $l (br $l))))
