"""Published results: versions (v1, v2, ...), appeals and the final state."""
