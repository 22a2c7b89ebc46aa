"""Error types the CLI and UI turn into messages for people.

UserError and its subclasses mean "the person gave us something wrong": one clear line, exit 2.
Anything else escaping to the top is a bug: logged with traceback, exit 1.
"""


class UserError(Exception):
    """Bad input from a person: shown as one line, exit code 2."""


class NotFound(UserError):
    """A named thing (product, job, file) does not exist."""


class ConfigError(UserError):
    """A configuration file with one or more problems; all of them are listed at once."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{source}: {len(self.problems)} problem(s) in configuration:\n{lines}")
