class ApplicationError(Exception):
    """An error a user can act on: `message` is shown on the page as it is."""

    def __init__(self, message, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
