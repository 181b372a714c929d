"""The webhooks' receiver on loopback and dispatching app, for the weekly digest's deliveries."""

from tests.webhooks.conftest import dispatching_app, receiver

__all__ = ["dispatching_app", "receiver"]
