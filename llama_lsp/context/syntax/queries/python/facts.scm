; What a definition's signature and body tell its documentation (read by
; llama_lsp.features.actions.analysis; capture conventions: see there).

(function_definition return_type: (type)? @returns) @function
(function_definition "async" @async) @function

[(function_definition) (class_definition) (lambda)] @scope
(return_statement (_)) @return.value
(yield) @yield
(raise_statement . [(identifier) (attribute)] @raise.name)
(raise_statement . (call function: [(identifier) (attribute)] @raise.name))

; Fields: annotated assignments in a class body (`ClassVar`s are no fields).
((block
  (expression_statement
    (assignment
      left: (identifier) @field
      type: (type) @field.type
      right: (_)? @field.default))) @fields
  (#not-match? @field.type "^(typing\\.)?ClassVar"))
