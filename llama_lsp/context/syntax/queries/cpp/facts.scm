; inherits: c
; C++ additions (capture conventions: see analysis.py): methods declared in classes,
; references, lambdas, throw.

(field_declaration type: (_) @returns declarator: (function_declarator)) @function
((field_declaration type: (_) @returns declarator: (pointer_declarator)) @function
  (#set! returns.suffix "*"))
([
  (function_definition type: (_) @returns declarator: (reference_declarator))
  (declaration type: (_) @returns declarator: (reference_declarator))
  (field_declaration type: (_) @returns declarator: (reference_declarator))
 ] @function
  (#set! returns.suffix "&"))

[(field_declaration) (lambda_expression)] @scope
(throw_statement . [(identifier) (qualified_identifier)] @raise.name)
(throw_statement . (call_expression function: [(identifier) (qualified_identifier)] @raise.name))
