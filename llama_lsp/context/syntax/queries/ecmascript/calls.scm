; Calls shared by JavaScript and TypeScript (capture conventions: see callee.py).

(call_expression
  function: [(identifier) @call.name
             (member_expression
               property: [(property_identifier) (private_property_identifier)] @call.name)
               @call.member]
  arguments: (arguments) @call.arguments)
(new_expression
  constructor: [(identifier) @call.name
                (member_expression property: (property_identifier) @call.name) @call.member]
  arguments: (arguments) @call.arguments)
