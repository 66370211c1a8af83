; Calls (capture conventions: see callee.py).
; inherits: c

(call_expression
  function: [(qualified_identifier name: (identifier) @call.name)
             (template_function name: (identifier) @call.name)]
  arguments: (argument_list) @call.arguments)
