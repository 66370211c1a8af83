; Definitions for llama_lsp.context.syntax.outline (capture conventions: see outline.py).
; inherits: ecmascript

; Overloads and `declare function`.
(function_signature
  name: (identifier) @name
  parameters: (formal_parameters) @parameters) @definition.function

(class_declaration
  name: (type_identifier) @name
  body: (class_body) @body) @definition.class

(abstract_class_declaration
  name: (type_identifier) @name
  body: (class_body) @body) @definition.class

(interface_declaration
  name: (type_identifier) @name
  body: (interface_body) @body) @definition.interface

(enum_declaration
  name: (identifier) @name
  body: (enum_body) @body) @definition.enum

(type_alias_declaration
  name: (type_identifier) @name) @definition.type

(method_signature
  name: [(property_identifier) (private_property_identifier) (computed_property_name)] @name
  parameters: (formal_parameters) @parameters) @definition.method

(abstract_method_signature
  name: [(property_identifier) (private_property_identifier) (computed_property_name)] @name
  parameters: (formal_parameters) @parameters) @definition.method

; Class fields holding functions: `handler = (e) => {...}`.
(public_field_definition
  name: [(property_identifier) (private_property_identifier)] @name
  value: [
    (arrow_function parameters: (formal_parameters) @parameters body: (_) @body)
    (arrow_function parameter: (identifier) @parameters body: (_) @body)
    (function_expression parameters: (formal_parameters) @parameters body: (_) @body)
  ]) @definition.method

; Parameters (required or optional), each with its list, type and default: a name, a rest
; name, or one level of destructuring (one parameter, documented as `options`).
(formal_parameters
  (_
    pattern: (identifier) @parameter
    type: (type_annotation (_) @parameter.type)?
    value: (_)? @parameter.default)) @parameters
((formal_parameters
  (_ pattern: (rest_pattern (identifier) @parameter) type: (type_annotation (_) @parameter.type)?))
  @parameters
  (#set! parameter.kind "var_positional"))
((formal_parameters
  (_
    pattern: [
      (object_pattern (shorthand_property_identifier_pattern) @parameter)
      (object_pattern (pair_pattern value: (identifier) @parameter))
      (object_pattern (object_assignment_pattern left: (shorthand_property_identifier_pattern) @parameter))
      (array_pattern (identifier) @parameter)]
    type: (type_annotation (_) @parameter.type)?
    value: (_)? @parameter.default) @parameter.entry) @parameters
  (#set! parameter.label "options"))

(ambient_declaration (_) @wrapped) @wrapper

; Visibility (besides the shared rules): TypeScript-only declarations local to a block, and
; private/protected members.
(statement_block [
  (abstract_class_declaration)
  (interface_declaration)
  (enum_declaration)
  (type_alias_declaration)
] @private)
((method_definition (accessibility_modifier) @_access) @private
  (#any-of? @_access "private" "protected"))
((method_signature (accessibility_modifier) @_access) @private
  (#any-of? @_access "private" "protected"))
((abstract_method_signature (accessibility_modifier) @_access) @private
  (#any-of? @_access "private" "protected"))
((public_field_definition (accessibility_modifier) @_access) @private
  (#any-of? @_access "private" "protected"))
(public_field_definition name: (private_property_identifier) @private)
