"""Logging filters the settings plug in."""

import logging


class RefusalsOnOneLine(logging.Filter):
    """A request refused with a 4xx (403, 400, a suspicious header ...) is one line, without the traceback Django
    attaches: anyone signed in, or not, can cause as many as they like, so a traceback each would flood the log.
    Server errors (5xx) keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if status is not None and status < 500 and record.exc_info:
            exception = record.exc_info[1]
            reason = str(exception) if exception is not None else ""
            if reason and reason not in record.getMessage():
                record.msg = f"{record.getMessage()} ({type(exception).__name__}: {reason})"
                record.args = ()
            record.exc_info = None
            record.exc_text = None
        return True
