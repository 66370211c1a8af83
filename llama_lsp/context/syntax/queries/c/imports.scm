; Imports for llama_lsp.context.syntax.outline (capture conventions: see outline.py).

((preproc_include path: (string_literal) @module) @import (#set! local "true"))
((preproc_include path: (system_lib_string) @module) @import (#set! local "false"))
