class ApplicationError(Exception):
    """An error a user can act on: `message` is shown on the page as it is."""

    def __init__(self, message, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def add_to(self, form) -> None:
        """Shows the message on the form: beside its field when the form has that field, else above the form."""
        form.add_error(self.field if self.field in form.fields else None, self.message)
