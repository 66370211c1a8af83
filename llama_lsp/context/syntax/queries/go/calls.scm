; Calls (capture conventions: see callee.py).
; wrap: func _() { <line> }
; (Statements only parse inside a function; `fmt.Println(` is a call through a package.)

(call_expression
  function: [(identifier) @call.name
             (selector_expression field: (field_identifier) @call.name) @call.member]
  arguments: (argument_list) @call.arguments)
