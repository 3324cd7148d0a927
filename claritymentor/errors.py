"""The two error channels.

``UserInputError``: something the person can fix (no speech, too long, not audio);
the UI shows its message and the session stays as it was.
``ConfigError`` / ``ModelLoadError``: something a developer must fix; raised at
start-up, chained to the cause, with what to do.
"""


class UserInputError(ValueError):
    """Bad input from the person using the app; the message is shown to them as is."""


class ConfigError(RuntimeError):
    """Invalid configuration; the message names the file and key to fix."""


class ModelLoadError(RuntimeError):
    """A model could not be loaded; the message says which and what to do."""
