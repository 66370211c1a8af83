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

; Parameters, each with its list: name (without * / **), type, default, kind.
(parameters (identifier) @parameter) @parameters
(parameters (typed_parameter . (identifier) @parameter type: (type) @parameter.type)) @parameters
(parameters (default_parameter name: (identifier) @parameter value: (_) @parameter.default)) @parameters
(parameters
  (typed_default_parameter
    name: (identifier) @parameter
    type: (type) @parameter.type
    value: (_) @parameter.default)) @parameters
((parameters (list_splat_pattern (identifier) @parameter) @parameter.entry) @parameters
  (#set! parameter.kind "var_positional"))
((parameters (dictionary_splat_pattern (identifier) @parameter) @parameter.entry) @parameters
  (#set! parameter.kind "var_keyword"))
((parameters
  (typed_parameter
    (list_splat_pattern (identifier) @parameter) @parameter.entry
    type: (type) @parameter.type)) @parameters
  (#set! parameter.kind "var_positional"))
((parameters
  (typed_parameter
    (dictionary_splat_pattern (identifier) @parameter) @parameter.entry
    type: (type) @parameter.type)) @parameters
  (#set! parameter.kind "var_keyword"))
((parameters [(identifier) @parameter (typed_parameter . (identifier) @parameter)]) @parameters
  (#set! parameter.receiver "true")
  (#any-of? @parameter "self" "cls"))
(parameters (positional_separator) @separator.positional_only) @parameters
(parameters (keyword_separator) @separator.keyword_only) @parameters

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
