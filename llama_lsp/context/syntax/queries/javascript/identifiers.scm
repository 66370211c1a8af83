; Identifier-like nodes for llama_lsp.context.syntax.outline.identifiers_in.
[
  (identifier)
  (property_identifier)
  (private_property_identifier)
  (shorthand_property_identifier)
  (shorthand_property_identifier_pattern)
] @identifier
