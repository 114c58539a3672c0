"""Pure rules: no I/O, no framework imports. Everything else calls into here."""
