; Definitions for llama_lsp.context.syntax.outline (capture conventions: see outline.py).

; The docstring is the body's first statement, when it is a string.
(function_definition
  name: (identifier) @name
  parameters: (parameters) @parameters
  body: (block . (expression_statement . (string) @doc .)?) @body) @definition.function

(class_definition
  name: (identifier) @name
  body: (block . (expression_statement . (string) @doc .)?) @body) @definition.class

; Module-level UPPER_CASE assignments.
(module
  (expression_statement
    (assignment
      left: (identifier) @name
      right: (_) @body)) @definition.constant
  (#match? @name "^_*[A-Z][A-Z0-9_]*$"))

; Parameter names (without * / **), each with its list.
(parameters (identifier) @parameter) @parameters
(parameters (typed_parameter . (identifier) @parameter)) @parameters
(parameters (default_parameter name: (identifier) @parameter)) @parameters
(parameters (typed_default_parameter name: (identifier) @parameter)) @parameters
(parameters (list_splat_pattern (identifier) @parameter)) @parameters
(parameters (dictionary_splat_pattern (identifier) @parameter)) @parameters
(parameters (typed_parameter (list_splat_pattern (identifier) @parameter))) @parameters
(parameters (typed_parameter (dictionary_splat_pattern (identifier) @parameter))) @parameters

(decorated_definition definition: (_) @wrapped) @wrapper
(decorator) @decoration
(comment) @comment

; Visibility: names starting with "_" are private, except dunders (`__init__`).
((function_definition name: (identifier) @private)
  (#match? @private "^_")
  (#not-match? @private "^__.*__$"))
((class_definition name: (identifier) @private)
  (#match? @private "^_"))
((module (expression_statement (assignment left: (identifier) @private)))
  (#match? @private "^_"))
