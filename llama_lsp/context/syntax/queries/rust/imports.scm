; Imports for llama_lsp.context.syntax.outline (capture conventions: see outline.py).
; Local: paths under crate::, self:: or super::, and `mod foo;` files.

; `use a::b::C;` -> module "a::b::C", names ("C").
((use_declaration argument: (scoped_identifier name: (_) @name) @module) @import
  (#set! local.match "^(crate|self|super)(::|$)"))
((use_declaration argument: (identifier) @module @name) @import
  (#set! local.match "^(crate|self|super)(::|$)"))
((use_declaration
  argument: (use_as_clause path: (scoped_identifier name: (_) @name) @module)) @import
  (#set! local.match "^(crate|self|super)(::|$)"))
((use_declaration argument: (use_as_clause path: (identifier) @module @name)) @import
  (#set! local.match "^(crate|self|super)(::|$)"))

; `use a::*;` -> module "a", names ("*").
((use_declaration argument: (use_wildcard . (_) @module "*" @name)) @import
  (#set! local.match "^(crate|self|super)(::|$)"))

; `use a::{b, c::d, e as f, self};` -> module "a", names ("b", "d", "e", "self"); one nested level.
((use_declaration argument: (scoped_use_list path: (_) @module)) @import
  (#set! local.match "^(crate|self|super)(::|$)"))
((use_declaration
  argument: (scoped_use_list
    path: (_) @module
    list: (use_list [
      (identifier) @name
      (self) @name
      (scoped_identifier name: (_) @name)
      (use_as_clause path: [(identifier) @name (scoped_identifier name: (_) @name)])
      (use_wildcard "*" @name)
    ]))) @import
  (#set! local.match "^(crate|self|super)(::|$)"))
((use_declaration
  argument: (scoped_use_list
    path: (_) @module
    list: (use_list
      (scoped_use_list
        list: (use_list [
          (identifier) @name
          (self) @name
          (scoped_identifier name: (_) @name)
          (use_as_clause path: [(identifier) @name (scoped_identifier name: (_) @name)])
        ]))))) @import
  (#set! local.match "^(crate|self|super)(::|$)"))

; `mod foo;` (a file of this crate).
((mod_item !body name: (identifier) @module) @import
  (#set! local "true"))
