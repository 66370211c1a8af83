; What a definition's signature and body tell its documentation, shared by JavaScript and
; TypeScript (read by llama_lsp.features.actions.analysis; capture conventions: see there).

[(function_declaration) (function_expression) (arrow_function) (method_definition)] @function
[(generator_function_declaration) (generator_function)] @function @generator
(method_definition "*" @generator) @function
[
  (function_declaration "async" @async)
  (generator_function_declaration "async" @async)
  (function_expression "async" @async)
  (generator_function "async" @async)
  (arrow_function "async" @async)
  (method_definition "async" @async)
] @function

[
  (function_declaration)
  (generator_function_declaration)
  (function_expression)
  (generator_function)
  (arrow_function)
  (method_definition)
  (class_declaration)
  (class)
] @scope
(return_statement (_)) @return.value
(arrow_function body: (expression) @return.value)
(yield_expression) @yield
(throw_statement . [(identifier) (member_expression)] @raise.name)
(throw_statement . (new_expression constructor: [(identifier) (member_expression)] @raise.name))
(throw_statement . (call_expression function: [(identifier) (member_expression)] @raise.name))
