"""Pure rules of backup codes: code format, hashing parameters, device tokens, locales (no I/O)."""
