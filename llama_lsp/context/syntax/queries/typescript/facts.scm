; inherits: ecmascript
; Return types, and the declarations without a body (capture conventions: see analysis.py).

[
  (function_declaration return_type: (_ . (_) @returns))
  (generator_function_declaration return_type: (_ . (_) @returns))
  (function_expression return_type: (_ . (_) @returns))
  (generator_function return_type: (_ . (_) @returns))
  (arrow_function return_type: (_ . (_) @returns))
  (method_definition return_type: (_ . (_) @returns))
  (function_signature return_type: (_ . (_) @returns)?)
  (method_signature return_type: (_ . (_) @returns)?)
  (abstract_method_signature return_type: (_ . (_) @returns)?)
] @function
