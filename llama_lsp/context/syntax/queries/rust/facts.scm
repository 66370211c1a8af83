; What a definition's signature and body tell its documentation (read by
; llama_lsp.features.actions.analysis; capture conventions: see there).

[
  (function_item return_type: (_)? @returns)
  (function_signature_item return_type: (_)? @returns)
] @function

[(function_item) (function_signature_item) (closure_expression)] @scope
(return_expression (_)) @return.value
((macro_invocation macro: (identifier) @panic)
  (#any-of? @panic "panic" "unreachable" "todo" "unimplemented" "assert" "assert_eq" "assert_ne"))
((field_identifier) @panic (#any-of? @panic "unwrap" "expect"))
