"""Placeholder until the roster import lands (being written now)."""

from litestar import Controller


class RosterController(Controller):
    path = "/competitions/{competition_id:int}/import"
