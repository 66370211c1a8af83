; Calls (capture conventions: see callee.py).
; wrap: void _() { <line> }

(call_expression function: (identifier) @call.name arguments: (argument_list) @call.arguments)
(call_expression
  function: (field_expression field: (field_identifier) @call.name) @call.member
  arguments: (argument_list) @call.arguments)
