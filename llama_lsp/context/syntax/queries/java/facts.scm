; What a definition's signature and body tell its documentation (read by
; llama_lsp.features.actions.analysis; capture conventions: see there).

(method_declaration type: (_) @returns) @function
(constructor_declaration) @function
[
  (method_declaration (throws (_) @throws))
  (constructor_declaration (throws (_) @throws))
] @function

[(method_declaration) (constructor_declaration) (lambda_expression) (class_declaration)] @scope
(return_statement (_)) @return.value
(throw_statement . (identifier) @raise.name)
(throw_statement . (object_creation_expression type: (_) @raise.name))
