from enum import StrEnum


class Scope(StrEnum):
    """Each scope includes the ones before it."""

    analytics = "analytics"
    read = "read"
    write = "write"
    admin = "admin"

    @property
    def rank(self) -> int:
        return list(Scope).index(self)

    def allows(self, needed: "Scope") -> bool:
        return self.rank >= needed.rank
