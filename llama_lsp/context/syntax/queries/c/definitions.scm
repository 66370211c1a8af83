; Definitions for llama_lsp.context.syntax.outline (capture conventions: see outline.py).
; Function names sit under up to two pointer declarators: `char **f(void)`.

(function_definition
  declarator: [
    (function_declarator declarator: (identifier) @name parameters: (parameter_list) @parameters)
    (_ declarator: (function_declarator
      declarator: (identifier) @name parameters: (parameter_list) @parameters))
    (_ declarator: (_ declarator: (function_declarator
      declarator: (identifier) @name parameters: (parameter_list) @parameters)))
  ]
  body: (compound_statement) @body) @definition.function

; Prototypes (file scope).
(translation_unit
  (declaration
    declarator: [
      (function_declarator declarator: (identifier) @name parameters: (parameter_list) @parameters)
      (_ declarator: (function_declarator
        declarator: (identifier) @name parameters: (parameter_list) @parameters))
      (_ declarator: (_ declarator: (function_declarator
        declarator: (identifier) @name parameters: (parameter_list) @parameters)))
    ]) @definition.function)

(struct_specifier name: (type_identifier) @name body: (field_declaration_list) @body) @definition.struct
(union_specifier name: (type_identifier) @name body: (field_declaration_list) @body) @definition.struct
(enum_specifier name: (type_identifier) @name body: (enumerator_list) @body) @definition.enum

; `typedef struct {...} Name;` is the struct Name; other typedefs are types.
(type_definition
  type: (struct_specifier !name body: (field_declaration_list) @body)
  declarator: (type_identifier) @name) @definition.struct
(type_definition
  type: (union_specifier !name body: (field_declaration_list) @body)
  declarator: (type_identifier) @name) @definition.struct
(type_definition
  type: (enum_specifier !name body: (enumerator_list) @body)
  declarator: (type_identifier) @name) @definition.enum
(type_definition declarator: (type_identifier) @name) @definition.type

(preproc_def name: (identifier) @name value: (_)? @body) @definition.constant
(preproc_function_def
  name: (identifier) @name
  parameters: (preproc_params) @parameters
  value: (_)? @body) @definition.function

; Parameters, each with its list and type (through pointer/array declarators, and
; parenthesized ones: `int (*callback)(int)`).
(parameter_list
  (parameter_declaration
    type: (_) @parameter.type
    declarator: [
      (identifier) @parameter
      (_ declarator: (identifier) @parameter)
      (_ declarator: (_ declarator: (identifier) @parameter))
      (_ declarator: (parenthesized_declarator (_ declarator: (identifier) @parameter)))])) @parameters
(preproc_params (identifier) @parameter) @parameters

(comment) @comment
; Doc comments: `/** ... */`, or a run of `///` lines.
((comment) @doc.comment (#match? @doc.comment "^/\\*\\*[^/]"))
((comment) @doc.lines (#match? @doc.lines "^///([^/]|$)"))

; Visibility: `static` definitions are private to their file.
((function_definition (storage_class_specifier) @_storage) @private (#eq? @_storage "static"))
((declaration (storage_class_specifier) @_storage) @private (#eq? @_storage "static"))
