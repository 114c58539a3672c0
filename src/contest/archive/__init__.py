"""A competition's archive: export everything about it, import it into another database."""
