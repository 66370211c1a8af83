; Imports for llama_lsp.context.syntax.outline (capture conventions: see outline.py).
; Go import paths do not tell whether a package is in this module: never local.

; The whole declaration for `import "x"`, the spec inside `import (...)`.
((import_declaration (import_spec path: (_) @module)) @import
  (#set! local "false"))
((import_spec_list (import_spec path: (_) @module) @import)
  (#set! local "false"))
