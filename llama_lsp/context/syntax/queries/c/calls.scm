; Calls (capture conventions: see callee.py).
; wrap: void _() { <line> }
; (Statements only parse inside a function; C++ inherits these patterns.)

(call_expression
  function: [(identifier) @call.name
             (field_expression field: (field_identifier) @call.name) @call.member]
  arguments: (argument_list) @call.arguments)
