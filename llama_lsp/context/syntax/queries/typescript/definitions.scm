; Definitions for llama_lsp.context.syntax.outline (capture conventions: see outline.py).

(function_declaration
  name: (identifier) @name
  parameters: (formal_parameters) @parameters
  body: (statement_block) @body) @definition.function

(generator_function_declaration
  name: (identifier) @name
  parameters: (formal_parameters) @parameters
  body: (statement_block) @body) @definition.function

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

(method_definition
  name: [(property_identifier) (private_property_identifier) (computed_property_name)] @name
  parameters: (formal_parameters) @parameters
  body: (statement_block) @body) @definition.method

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

; `const f = (...) => ...`: the whole declaration when it declares one name, else the declarator.
(lexical_declaration
  .
  (variable_declarator
    name: (identifier) @name
    value: [
      (arrow_function parameters: (formal_parameters) @parameters body: (_) @body)
      (arrow_function parameter: (identifier) @parameters body: (_) @body)
      (function_expression parameters: (formal_parameters) @parameters body: (_) @body)
      (generator_function parameters: (formal_parameters) @parameters body: (_) @body)
    ])
  .) @definition.function

(variable_declarator
  name: (identifier) @name
  value: [
    (arrow_function parameters: (formal_parameters) @parameters body: (_) @body)
    (arrow_function parameter: (identifier) @parameters body: (_) @body)
    (function_expression parameters: (formal_parameters) @parameters body: (_) @body)
    (generator_function parameters: (formal_parameters) @parameters body: (_) @body)
  ]) @definition.function

; Top-level UPPER_CASE constants.
((program
  (lexical_declaration
    "const"
    .
    (variable_declarator name: (identifier) @name value: (_) @body)
    .) @definition.constant)
  (#match? @name "^_*[A-Z][A-Z0-9_]*$"))
((program
  (export_statement
    declaration: (lexical_declaration
      "const"
      .
      (variable_declarator name: (identifier) @name value: (_) @body)
      .) @definition.constant))
  (#match? @name "^_*[A-Z][A-Z0-9_]*$"))

; Parameter names, each with its list: plain, optional, defaulted, rest, one level of
; destructuring.
(formal_parameters (required_parameter pattern: (identifier) @parameter)) @parameters
(formal_parameters (optional_parameter pattern: (identifier) @parameter)) @parameters
(formal_parameters (required_parameter pattern: (rest_pattern (identifier) @parameter))) @parameters
(formal_parameters (optional_parameter pattern: (rest_pattern (identifier) @parameter))) @parameters
(formal_parameters (required_parameter pattern: (object_pattern (shorthand_property_identifier_pattern) @parameter))) @parameters
(formal_parameters (optional_parameter pattern: (object_pattern (shorthand_property_identifier_pattern) @parameter))) @parameters
(formal_parameters (required_parameter pattern: (object_pattern (pair_pattern value: (identifier) @parameter)))) @parameters
(formal_parameters (optional_parameter pattern: (object_pattern (pair_pattern value: (identifier) @parameter)))) @parameters
(formal_parameters (required_parameter pattern: (object_pattern (object_assignment_pattern left: (shorthand_property_identifier_pattern) @parameter)))) @parameters
(formal_parameters (optional_parameter pattern: (object_pattern (object_assignment_pattern left: (shorthand_property_identifier_pattern) @parameter)))) @parameters
(formal_parameters (required_parameter pattern: (array_pattern (identifier) @parameter))) @parameters
(formal_parameters (optional_parameter pattern: (array_pattern (identifier) @parameter))) @parameters
(arrow_function parameter: (identifier) @parameter @parameters)

(export_statement declaration: (_) @wrapped) @wrapper
(ambient_declaration (_) @wrapped) @wrapper
(decorator) @decoration
(comment) @comment

; Visibility: top-level, exported and class/interface members are public; definitions local
; to a function or block, private/protected and #private members are not.
(statement_block [
  (function_declaration)
  (generator_function_declaration)
  (class_declaration)
  (abstract_class_declaration)
  (interface_declaration)
  (enum_declaration)
  (type_alias_declaration)
  (lexical_declaration)
  (variable_declaration)
] @private)
(statement_block (lexical_declaration (variable_declarator) @private))
(statement_block (variable_declaration (variable_declarator) @private))
((method_definition (accessibility_modifier) @_access) @private
  (#any-of? @_access "private" "protected"))
((method_signature (accessibility_modifier) @_access) @private
  (#any-of? @_access "private" "protected"))
((abstract_method_signature (accessibility_modifier) @_access) @private
  (#any-of? @_access "private" "protected"))
((public_field_definition (accessibility_modifier) @_access) @private
  (#any-of? @_access "private" "protected"))
(method_definition name: (private_property_identifier) @private)
(public_field_definition name: (private_property_identifier) @private)
