"""The one exception of the verifier: which file, which line, which check failed, and why."""

from __future__ import annotations


class VerificationFailure(Exception):
    """The first check that failed: which file, which line (1-based, 0 = whole file), what."""

    def __init__(self, file: str, line: int, check: str, detail: str) -> None:
        super().__init__(f"{file}:{line}: {check}: {detail}" if line else f"{file}: {check}: {detail}")
        self.file, self.line, self.check, self.detail = file, line, check, detail

    def __reduce__(self) -> tuple[type[VerificationFailure], tuple[str, int, str, str]]:
        """Picklable (a worker process of the ballot-log check sends it back)."""
        return (VerificationFailure, (self.file, self.line, self.check, self.detail))


def fail(file: str, check: str, detail: str, line: int = 0) -> VerificationFailure:
    """A :class:`VerificationFailure` for ``file`` (``line``, 0 when not about a line), the
    ``check`` that failed and a ``detail``, to ``raise``.
    """
    return VerificationFailure(file, line, check, detail)

