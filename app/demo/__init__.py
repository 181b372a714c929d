"""The demo data set behind ``decision-log demo``: a year of a marketing team.

- :mod:`app.demo.data`: the tables (people and teams, channels, data sources and their evidence,
  KPIs, strategies, the words of titles and rationales, outcomes), plain data, one table per concept;
- :mod:`app.demo.plan`: the generator, :func:`build_plan` (seed and day in, a :class:`DemoPlan` out), and
  for larger data sets (bench/) ``organisation()`` and ``Decisions`` (any number, as bodies or rows);
- :mod:`app.demo.load`: :func:`load` records a plan through the domain services, :func:`run_demo` does both.
"""

from app.demo.data import MEMBERS
from app.demo.errors import DemoRefused
from app.demo.load import DemoSummary, load, run_demo
from app.demo.plan import DEFAULT_SEED, DemoPlan, build_plan

__all__ = ["DEFAULT_SEED", "MEMBERS", "DemoPlan", "DemoRefused", "DemoSummary", "build_plan", "load", "run_demo"]
