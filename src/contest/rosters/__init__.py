"""Roster import from Excel: units, items and schemes, competitors and teams with coaches, judges."""
