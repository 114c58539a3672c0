"""contest: competition management and scoring for vocational skills competitions."""

__version__ = "0.2.0"
