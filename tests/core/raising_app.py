"""The service, served by uvicorn with its own logging configuration, plus one route that fails in a way nothing
maps to an answer: ``python -m tests.core.raising_app PORT LOG_FORMAT``. For the error-log tests only."""

import sys

import uvicorn

from app.core.observability import log_config
from app.main import create_app

# An API key's shape in the error's message: the stack must be logged with it redacted.
SECRET = "dlk_0123456789ab_notARealKeyButShapedLikeOne"
MESSAGE = f"the test route failed on purpose (key {SECRET})"


def fail_unexpectedly() -> None:
    raise RuntimeError(MESSAGE)


app = create_app()
app.add_api_route("/test/unexpected-error", fail_unexpectedly, methods=["GET"])

if __name__ == "__main__":
    port, log_format = int(sys.argv[1]), sys.argv[2]
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=log_config("INFO", log_format), access_log=False)
