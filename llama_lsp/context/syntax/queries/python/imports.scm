; Imports for llama_lsp.context.syntax.outline (capture conventions: see outline.py).
; `local.match`: the import is local when its module text matches this regex.

((import_statement name: (dotted_name) @module) @import
  (#set! local.match "^\\."))
((import_statement name: (aliased_import name: (dotted_name) @module)) @import
  (#set! local.match "^\\."))

((import_from_statement module_name: (_) @module) @import
  (#set! local.match "^\\."))
((import_from_statement module_name: (_) @module name: (dotted_name) @name) @import
  (#set! local.match "^\\."))
((import_from_statement module_name: (_) @module name: (aliased_import name: (dotted_name) @name)) @import
  (#set! local.match "^\\."))
((import_from_statement module_name: (_) @module (wildcard_import) @name) @import
  (#set! local.match "^\\."))

((future_import_statement "__future__" @module name: (dotted_name) @name) @import
  (#set! local "false"))
