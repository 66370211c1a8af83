; Definitions for llama_lsp.context.syntax.outline (capture conventions: see outline.py).
; inherits: ecmascript

(class_declaration
  name: (identifier) @name
  body: (class_body) @body) @definition.class

; Class fields holding functions: `handler = (e) => {...}`.
(field_definition
  property: [(property_identifier) (private_property_identifier)] @name
  value: [
    (arrow_function parameters: (formal_parameters) @parameters body: (_) @body)
    (arrow_function parameter: (identifier) @parameters body: (_) @body)
    (function_expression parameters: (formal_parameters) @parameters body: (_) @body)
  ]) @definition.method

; Parameter names, each with its list: plain, defaulted, rest, one level of destructuring.
(formal_parameters (identifier) @parameter) @parameters
(formal_parameters (assignment_pattern left: (identifier) @parameter)) @parameters
(formal_parameters (rest_pattern (identifier) @parameter)) @parameters
(formal_parameters (object_pattern (shorthand_property_identifier_pattern) @parameter)) @parameters
(formal_parameters (object_pattern (pair_pattern value: (identifier) @parameter))) @parameters
(formal_parameters (object_pattern (object_assignment_pattern left: (shorthand_property_identifier_pattern) @parameter))) @parameters
(formal_parameters (array_pattern (identifier) @parameter)) @parameters
(formal_parameters (assignment_pattern left: (object_pattern (shorthand_property_identifier_pattern) @parameter))) @parameters
(formal_parameters (assignment_pattern left: (array_pattern (identifier) @parameter))) @parameters

(field_definition property: (private_property_identifier) @private)
