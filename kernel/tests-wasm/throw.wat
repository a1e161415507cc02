;; Uses the exception-handling proposal, which wasmi lacks.
(module
  (tag $e)
  (func (export "_start") (throw $e)))
