"""The needs survey: read it (:mod:`.survey`), count the demand and propose seats (:mod:`.demand`, pure),
write what it says (:mod:`.output`)."""

from .demand import Cell, Proposal, demand_cells, profile, propose_seats, regency_totals, topic_totals
from .survey import Respondent, Survey, read_survey, survey_from_tables

__all__ = ["Cell", "Proposal", "Respondent", "Survey", "demand_cells", "profile", "propose_seats",
           "read_survey", "regency_totals", "survey_from_tables", "topic_totals"]
