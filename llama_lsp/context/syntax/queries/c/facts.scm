; What a definition's signature and body tell its documentation (read by
; llama_lsp.features.actions.analysis; capture conventions: see there). The return type is
; the declaration's type, with a `*` (`&`) when the function's declarator is a pointer
; (reference). C++ inherits these patterns.

[
  (function_definition type: (_) @returns declarator: (function_declarator))
  (declaration type: (_) @returns declarator: (function_declarator))
] @function
((function_definition type: (_) @returns declarator: (pointer_declarator)) @function
  (#set! returns.suffix "*"))
((declaration type: (_) @returns declarator: (pointer_declarator)) @function
  (#set! returns.suffix "*"))

(function_definition) @scope
(return_statement (_)) @return.value
