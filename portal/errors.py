"""Domain errors raised by services; views turn them into messages, the API into refusals."""


class DomainError(Exception):
    """An action refused by a business rule; `message` is safe to show to the user."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class NotAllowed(DomainError):
    """The actor's role or scope does not permit the action."""
