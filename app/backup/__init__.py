"""``decision-log export`` and ``decision-log import``: the whole record in one file (service.py), on either
engine."""
