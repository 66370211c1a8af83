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

; Parameters, each with its list: plain, defaulted, rest, one level of destructuring (one
; parameter, documented as `options`).
(formal_parameters (identifier) @parameter) @parameters
(formal_parameters
  (assignment_pattern left: (identifier) @parameter right: (_) @parameter.default)) @parameters
((formal_parameters (rest_pattern (identifier) @parameter)) @parameters
  (#set! parameter.kind "var_positional"))
((formal_parameters
  [(object_pattern (shorthand_property_identifier_pattern) @parameter)
   (object_pattern (pair_pattern value: (identifier) @parameter))
   (object_pattern (object_assignment_pattern left: (shorthand_property_identifier_pattern) @parameter))
   (array_pattern (identifier) @parameter)] @parameter.entry) @parameters
  (#set! parameter.label "options"))
((formal_parameters
  (assignment_pattern
    left: [(object_pattern (shorthand_property_identifier_pattern) @parameter)
           (array_pattern (identifier) @parameter)]
    right: (_) @parameter.default) @parameter.entry) @parameters
  (#set! parameter.label "options"))

(field_definition property: (private_property_identifier) @private)
