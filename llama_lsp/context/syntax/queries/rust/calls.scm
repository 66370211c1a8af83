; Calls (capture conventions: see callee.py).
; wrap: fn _() { <line> }

(call_expression
  function: [(identifier) @call.name
             (scoped_identifier name: (identifier) @call.name)
             (generic_function function: (identifier) @call.name)
             (generic_function function: (scoped_identifier name: (identifier) @call.name))
             (field_expression field: (field_identifier) @call.name) @call.member]
  arguments: (arguments) @call.arguments)

; Inside macros (`println!("{}", f(x, `): a name followed by a bracketed token tree.
(token_tree (identifier) @call.name . (token_tree . "(") @call.arguments)
