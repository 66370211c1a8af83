; Definitions for llama_lsp.context.syntax.outline (capture conventions: see outline.py).

(function_item
  name: (identifier) @name
  parameters: (parameters) @parameters
  body: (block) @body) @definition.function

; Trait methods without a default body, extern functions.
(function_signature_item
  name: (identifier) @name
  parameters: (parameters) @parameters) @definition.function

(struct_item
  name: (type_identifier) @name
  body: (_)? @body) @definition.struct

(union_item
  name: (type_identifier) @name
  body: (_) @body) @definition.struct

(enum_item
  name: (type_identifier) @name
  body: (enum_variant_list) @body) @definition.enum

(trait_item
  name: (type_identifier) @name
  body: (declaration_list) @body) @definition.trait

; `impl [Trait for] Type`: named after the type; its functions are Type's methods.
(impl_item
  type: [
    (type_identifier) @name
    (generic_type type: (type_identifier) @name)
    (scoped_type_identifier name: (type_identifier) @name)
    (generic_type type: (scoped_type_identifier name: (type_identifier) @name))
  ]
  body: (declaration_list)? @body) @definition.impl

(type_item name: (type_identifier) @name) @definition.type

(const_item name: (identifier) @name value: (_)? @body) @definition.constant
(static_item name: (identifier) @name value: (_)? @body) @definition.constant

; Parameters, each with its list and type (`self` included, as the receiver), one level of
; tuple destructuring (one parameter, documented as written).
((parameters (self_parameter (self) @parameter)) @parameters
  (#set! parameter.receiver "true"))
(parameters
  (parameter
    pattern: [
      (identifier) @parameter
      (mut_pattern (identifier) @parameter)
      (ref_pattern (identifier) @parameter)]
    type: (_) @parameter.type)) @parameters
(parameters
  (parameter
    pattern: (tuple_pattern (identifier) @parameter) @parameter.entry
    type: (_) @parameter.type)) @parameters

(attribute_item) @decoration
[(line_comment) (block_comment)] @comment
; Doc comments: a run of `///` lines.
((line_comment) @doc.lines (#match? @doc.lines "^///([^/]|$)"))

; Visibility: `pub` (any form) is public, everything else private.
[
  (function_item)
  (function_signature_item)
  (struct_item)
  (union_item)
  (enum_item)
  (trait_item)
  (type_item)
  (const_item)
  (static_item)
] @private
[
  (function_item (visibility_modifier))
  (function_signature_item (visibility_modifier))
  (struct_item (visibility_modifier))
  (union_item (visibility_modifier))
  (enum_item (visibility_modifier))
  (trait_item (visibility_modifier))
  (type_item (visibility_modifier))
  (const_item (visibility_modifier))
  (static_item (visibility_modifier))
] @public
; Trait items and trait-impl methods are as visible as the trait.
(trait_item body: (declaration_list [(function_item) (function_signature_item)] @public))
(impl_item trait: (_) body: (declaration_list (function_item) @public))
