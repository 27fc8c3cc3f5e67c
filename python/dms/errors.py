"""Errors a service raises to choose the answer the client gets."""


class InvalidInput(Exception):
    """The request cannot be served as sent: the client gets a 400 with this message. Any other
    exception from a service is a 500 with its message, and its traceback goes to the server's
    log."""
