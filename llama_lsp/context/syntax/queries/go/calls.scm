; Calls (capture conventions: see callee.py).
; wrap: func _() { <line> }

(call_expression function: (identifier) @call.name arguments: (argument_list) @call.arguments)
(call_expression
  function: (selector_expression field: (field_identifier) @call.name) @call.member
  arguments: (argument_list) @call.arguments)
