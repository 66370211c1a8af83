; Definitions for llama_lsp.context.syntax.outline (capture conventions: see outline.py).

(function_declaration
  name: (identifier) @name
  parameters: (formal_parameters) @parameters
  body: (statement_block) @body) @definition.function

(generator_function_declaration
  name: (identifier) @name
  parameters: (formal_parameters) @parameters
  body: (statement_block) @body) @definition.function

(class_declaration
  name: (identifier) @name
  body: (class_body) @body) @definition.class

(method_definition
  name: [(property_identifier) (private_property_identifier) (computed_property_name)] @name
  parameters: (formal_parameters) @parameters
  body: (statement_block) @body) @definition.method

; Class fields holding functions: `handler = (e) => {...}`.
(field_definition
  property: [(property_identifier) (private_property_identifier)] @name
  value: [
    (arrow_function parameters: (formal_parameters) @parameters body: (_) @body)
    (arrow_function parameter: (identifier) @parameters body: (_) @body)
    (function_expression parameters: (formal_parameters) @parameters body: (_) @body)
  ]) @definition.method

; `const f = (...) => ...` / `const f = function (...) {...}`: the whole declaration when it
; declares one name, else the declarator.
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
(arrow_function parameter: (identifier) @parameter @parameters)

(export_statement declaration: (_) @wrapped) @wrapper
(decorator) @decoration
(comment) @comment

; Visibility: top-level and exported definitions and class members are public; definitions
; local to a function or block and #private members are not.
(statement_block [
  (function_declaration)
  (generator_function_declaration)
  (class_declaration)
  (lexical_declaration)
  (variable_declaration)
] @private)
(statement_block (lexical_declaration (variable_declarator) @private))
(statement_block (variable_declaration (variable_declarator) @private))
(method_definition name: (private_property_identifier) @private)
(field_definition property: (private_property_identifier) @private)
