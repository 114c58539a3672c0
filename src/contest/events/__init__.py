"""Competition setup: competitions, items and schemes, units, people, judges, conflicts, the draw."""
