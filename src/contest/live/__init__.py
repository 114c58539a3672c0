"""Live judging: marks over websockets, the chief judge's console, scores, ranking and boards."""
