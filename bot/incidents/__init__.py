"""Incidents: one card and one approval for a burst of complaints about the same outage
(docs/incidents.md). ``ledger`` groups and keeps the ``incidents`` rows; ``desk`` is what
intake and the card's actions do; the cases' links are the case book's."""

from bot.incidents.desk import IncidentDesk
from bot.incidents.ledger import IncidentLedger, Placement
from bot.incidents.model import Incident

__all__ = ["Incident", "IncidentDesk", "IncidentLedger", "Placement"]
