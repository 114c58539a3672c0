"""Printable papers: PDF from templates/papers/ (contest.papers.pdf)."""
