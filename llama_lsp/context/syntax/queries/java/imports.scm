; Imports for llama_lsp.context.syntax.outline (capture conventions: see outline.py).
; Java packages do not tell whether a class is in this project: never local.

; `import a.b.C;` / `import static a.b.C.m;` -> module "a.b.C", names ("C").
((import_declaration (scoped_identifier name: (identifier) @name) @module .) @import
  (#set! local "false"))
((import_declaration (identifier) @module @name .) @import
  (#set! local "false"))
; `import a.b.*;` -> module "a.b", names ("*").
((import_declaration (_) @module . (asterisk) @name) @import
  (#set! local "false"))
