; Calls (capture conventions: see callee.py).
; inherits: ecmascript
