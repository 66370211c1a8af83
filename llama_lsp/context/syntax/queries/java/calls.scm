; Calls (capture conventions: see callee.py).
; wrap: class _ { void _() { <line> } }

(method_invocation !object name: (identifier) @call.name arguments: (argument_list) @call.arguments)
(method_invocation
  object: (_) @call.member name: (identifier) @call.name arguments: (argument_list) @call.arguments)
(object_creation_expression
  type: [(type_identifier) @call.name (generic_type (type_identifier) @call.name)]
  arguments: (argument_list) @call.arguments)
