; What a definition's signature and body tell its documentation (read by
; llama_lsp.features.actions.analysis; capture conventions: see there).

[
  (function_declaration result: (_)? @returns)
  (method_declaration result: (_)? @returns)
  (method_elem result: (_)? @returns)
  (func_literal result: (_)? @returns)
] @function

[(function_declaration) (method_declaration) (func_literal)] @scope
(return_statement (expression_list)) @return.value
