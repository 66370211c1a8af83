; inherits: javascript
; Identifier-like nodes for llama_lsp.context.syntax.outline.identifiers_in.
(type_identifier) @identifier
