; Definitions shared by JavaScript and TypeScript (both inherit this file; capture conventions:
; see outline.py). Patterns here must compile against both grammars.

(function_declaration
  name: (identifier) @name
  parameters: (formal_parameters) @parameters
  body: (statement_block) @body) @definition.function

(generator_function_declaration
  name: (identifier) @name
  parameters: (formal_parameters) @parameters
  body: (statement_block) @body) @definition.function

(method_definition
  name: [(property_identifier) (private_property_identifier) (computed_property_name)] @name
  parameters: (formal_parameters) @parameters
  body: (statement_block) @body) @definition.method

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

(arrow_function parameter: (identifier) @parameter @parameters)

(export_statement declaration: (_) @wrapped) @wrapper
(decorator) @decoration
(comment) @comment
; Doc comments: `/** ... */`.
((comment) @doc.comment (#match? @doc.comment "^/\\*\\*[^/]"))

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
