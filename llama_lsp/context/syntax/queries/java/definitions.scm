; Definitions for llama_lsp.context.syntax.outline (capture conventions: see outline.py).

(class_declaration name: (identifier) @name body: (class_body) @body) @definition.class
(record_declaration
  name: (identifier) @name
  parameters: (formal_parameters) @parameters
  body: (class_body) @body) @definition.class
(interface_declaration name: (identifier) @name body: (interface_body) @body) @definition.interface
(annotation_type_declaration
  name: (identifier) @name
  body: (annotation_type_body) @body) @definition.interface
(enum_declaration name: (identifier) @name body: (enum_body) @body) @definition.enum

(method_declaration
  name: (identifier) @name
  parameters: (formal_parameters) @parameters
  body: (block)? @body) @definition.method
(constructor_declaration
  name: (identifier) @name
  parameters: (formal_parameters) @parameters
  body: (constructor_body) @body) @definition.method
(compact_constructor_declaration
  name: (identifier) @name
  body: (block) @body) @definition.method
(annotation_type_element_declaration name: (identifier) @name) @definition.method

; `static final` fields.
(field_declaration
  (modifiers "static" "final")
  declarator: (variable_declarator name: (identifier) @name value: (_)? @body)) @definition.constant

(formal_parameters
  (formal_parameter type: (_) @parameter.type name: (identifier) @parameter)) @parameters
((formal_parameters (spread_parameter (variable_declarator name: (identifier) @parameter))) @parameters
  (#set! parameter.kind "var_positional"))

(modifiers [(annotation) (marker_annotation)] @decoration)
[(line_comment) (block_comment)] @comment
; Doc comments: `/** ... */`.
((block_comment) @doc.comment (#match? @doc.comment "^/\\*\\*[^/]"))

; Visibility: `public`, plus interface and annotation members; the rest is private.
[
  (class_declaration)
  (record_declaration)
  (interface_declaration)
  (annotation_type_declaration)
  (enum_declaration)
  (method_declaration)
  (constructor_declaration)
  (compact_constructor_declaration)
  (field_declaration)
] @private
[
  (class_declaration (modifiers "public"))
  (record_declaration (modifiers "public"))
  (interface_declaration (modifiers "public"))
  (annotation_type_declaration (modifiers "public"))
  (enum_declaration (modifiers "public"))
  (method_declaration (modifiers "public"))
  (constructor_declaration (modifiers "public"))
  (compact_constructor_declaration (modifiers "public"))
  (field_declaration (modifiers "public"))
] @public
(interface_body [(method_declaration) (field_declaration)] @public)
(annotation_type_body (annotation_type_element_declaration) @public)
