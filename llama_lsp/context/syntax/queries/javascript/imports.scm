; Imports for llama_lsp.context.syntax.outline (capture conventions: see outline.py).
; `#set!` goes before text predicates (#eq?, #match?): the other order crashes
; py-tree-sitter 0.26 when the query is freed.

((import_statement source: (string) @module) @import
  (#set! local.match "^\\."))
((import_statement
  (import_clause (identifier) @name)
  source: (string) @module) @import
  (#set! local.match "^\\."))
((import_statement
  (import_clause (named_imports (import_specifier name: (_) @name)))
  source: (string) @module) @import
  (#set! local.match "^\\."))
((import_statement
  (import_clause (namespace_import (identifier) @name))
  source: (string) @module) @import
  (#set! local.match "^\\."))

; Re-exports: `export {a} from "m"`, `export * from "m"`.
((export_statement source: (string) @module) @import
  (#set! local.match "^\\."))
((export_statement
  (export_clause (export_specifier name: (_) @name))
  source: (string) @module) @import
  (#set! local.match "^\\."))

; CommonJS: `const x = require("m")`, `const {a, b} = require("m")`, `require("m")`.
(((lexical_declaration
  (variable_declarator
    value: (call_expression
      function: (identifier) @_require
      arguments: (arguments . (string) @module .)))) @import)
  (#set! local.match "^\\.")
  (#eq? @_require "require"))
(((variable_declaration
  (variable_declarator
    value: (call_expression
      function: (identifier) @_require
      arguments: (arguments . (string) @module .)))) @import)
  (#set! local.match "^\\.")
  (#eq? @_require "require"))
((_
  (variable_declarator
    name: (identifier) @name
    value: (call_expression
      function: (identifier) @_require
      arguments: (arguments . (string) @module .)))) @import
  (#set! local.match "^\\.")
  (#eq? @_require "require"))
((_
  (variable_declarator
    name: (object_pattern [
      (shorthand_property_identifier_pattern) @name
      (pair_pattern key: (_) @name)
    ])
    value: (call_expression
      function: (identifier) @_require
      arguments: (arguments . (string) @module .)))) @import
  (#set! local.match "^\\.")
  (#eq? @_require "require"))
((expression_statement
  (call_expression
    function: (identifier) @_require
    arguments: (arguments . (string) @module .))) @import
  (#set! local.match "^\\.")
  (#eq? @_require "require"))

; Dynamic `import("m")`.
((call_expression
  function: (import)
  arguments: (arguments . (string) @module .)) @import
  (#set! local.match "^\\."))
