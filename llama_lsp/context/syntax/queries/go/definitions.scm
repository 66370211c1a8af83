; Definitions for llama_lsp.context.syntax.outline (capture conventions: see outline.py).

(function_declaration
  name: (identifier) @name
  parameters: (parameter_list) @parameters
  body: (block)? @body) @definition.function

; Methods: the receiver's type is the parent.
(method_declaration
  receiver: (parameter_list
    (parameter_declaration
      type: [
        (type_identifier) @parent
        (pointer_type (type_identifier) @parent)
        (generic_type type: (type_identifier) @parent)
        (pointer_type (generic_type type: (type_identifier) @parent))
      ]))
  name: (field_identifier) @name
  parameters: (parameter_list) @parameters
  body: (block)? @body) @definition.method

; Interface methods.
(method_elem
  name: (field_identifier) @name
  parameters: (parameter_list) @parameters) @definition.method

; Types: the whole `type X ...` declaration when it declares one type, else the spec.
(type_declaration
  .
  (type_spec
    name: (type_identifier) @name
    type: (struct_type (field_declaration_list) @body))
  .) @definition.struct
(type_declaration
  .
  (type_spec
    name: (type_identifier) @name
    type: (interface_type "{" @body.open "}" @body.close))
  .) @definition.interface
(type_declaration
  .
  [
    (type_spec name: (type_identifier) @name)
    (type_alias name: (type_identifier) @name)
  ]
  .) @definition.type

(type_spec
  name: (type_identifier) @name
  type: (struct_type (field_declaration_list) @body)) @definition.struct
(type_spec
  name: (type_identifier) @name
  type: (interface_type "{" @body.open "}" @body.close)) @definition.interface
(type_spec name: (type_identifier) @name) @definition.type
(type_alias name: (type_identifier) @name) @definition.type

; Constants: the whole `const X = ...` when it declares one name, else the spec.
; (`name:` is not used: the grammar also labels the commas between names as `name`.)
(const_declaration
  .
  (const_spec (identifier) @name value: (_)? @body)
  .) @definition.constant
(const_spec (identifier) @name value: (_)? @body) @definition.constant

; Parameter names, each with its list (receivers, results and function types match too, but
; no definition owns those lists).
(parameter_list
  (parameter_declaration name: (identifier) @parameter type: (_) @parameter.type)) @parameters
((parameter_list
  (variadic_parameter_declaration name: (identifier) @parameter type: (_) @parameter.type)) @parameters
  (#set! parameter.kind "var_positional"))

; Comments, all doc comments: the doc is every comment line directly above.
(comment) @doc.lines

; Visibility: exported names start with an upper-case letter.
(function_declaration name: (identifier) @private (#not-match? @private "^[A-Z]"))
(method_declaration name: (field_identifier) @private (#not-match? @private "^[A-Z]"))
(method_elem name: (field_identifier) @private (#not-match? @private "^[A-Z]"))
(type_spec name: (type_identifier) @private (#not-match? @private "^[A-Z]"))
(type_alias name: (type_identifier) @private (#not-match? @private "^[A-Z]"))
(const_spec (identifier) @private (#not-match? @private "^[A-Z]"))
