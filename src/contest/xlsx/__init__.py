"""Excel import/export helpers shared by capabilities."""
