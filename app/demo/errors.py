"""The demo's errors."""


class DemoRefused(Exception):
    """The database already holds decisions and ``force`` was not given."""
