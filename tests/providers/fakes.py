"""A fake command runner that replays scheduler transcripts and records the calls."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from parsl_nb.providers.commands import CommandFailed, CommandResult


@dataclass
class FakeRunner:
    """Answers each command by its program name, in order; records every call."""

    answers: dict[str, list[tuple[int, str, str] | Exception]] = field(default_factory=dict)
    calls: list[tuple[tuple[str, ...], str | None]] = field(default_factory=list)

    def add(self, program: str, returncode: int = 0, stdout: str = "", stderr: str = "") -> FakeRunner:
        self.answers.setdefault(program, []).append((returncode, stdout, stderr))
        return self

    def fail(self, program: str, reason: str) -> FakeRunner:
        self.answers.setdefault(program, []).append(CommandFailed(program, reason))
        return self

    def __call__(self, args: Sequence[str], *, timeout: float, input: str | None = None) -> CommandResult:
        argv = tuple(args)
        self.calls.append((argv, input))
        queue = self.answers.get(argv[0])
        if not queue:
            raise AssertionError(f"unexpected command {argv}")
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return CommandResult(argv, *answer)

    def programs(self) -> list[str]:
        return [argv[0] for argv, _ in self.calls]
