; inherits: javascript
; Imports for llama_lsp.context.syntax.outline (capture conventions: see outline.py).

; `import x = require("m")`.
((import_statement
  (import_require_clause (identifier) @name source: (string) @module)) @import
  (#set! local.match "^\\."))
