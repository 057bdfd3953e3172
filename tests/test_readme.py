"""The README and the Indonesian guide cannot rot: the "Use it from Python" example runs against the sandbox,
and every ``moodle-sync ...`` command line they show parses with the real CLI (commands, options, choices)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import click
import pytest

from moodle_sync.cli import root_command

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", ROOT / "docs" / "panduan.md"]
FENCE = re.compile(r"^```([\w-]*)\n(.*?)^```", re.DOTALL | re.MULTILINE)
INLINE = re.compile(r"`(moodle-sync(?: [^`]*)?)`")


def python_example(text: str, heading: str) -> str:
    """The first ```python block under ``heading``."""
    start = text.index(heading)
    block = FENCE.search(text, start)
    assert block is not None and block.group(1) == "python", f"no python block under {heading!r}"
    return block.group(2)


def command_lines(path: Path) -> list[tuple[int, str, bool]]:
    """Every ``moodle-sync ...`` line of a file's shell blocks (complete: True) and inline code spans
    (complete: False, may leave out arguments), with its line number."""
    text = path.read_text(encoding="utf-8")
    found: list[tuple[int, str, bool]] = []
    for block in FENCE.finditer(text):
        if block.group(1) in ("python", "yaml", "toml", "ini"):
            continue
        first = text.count("\n", 0, block.start(2)) + 1
        for offset, line in enumerate(block.group(2).splitlines()):
            if line.strip().startswith("moodle-sync"):
                found.append((first + offset, line.strip(), True))
    outside = FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    for number, line in enumerate(outside.splitlines(), start=1):
        found.extend((number, span, False) for span in INLINE.findall(line))
    return found


def check_command(line: str, *, complete: bool) -> None:
    """Parse ``line`` as the real CLI would, without running anything: the command (and group) must exist,
    every option must be one the command takes, with a value where it needs one and a valid choice;
    ``complete`` lines must also give every required argument and option and no extra argument.
    Raises :class:`click.UsageError` (or AssertionError) saying what is wrong."""
    args = shlex.split(line, comments=True)[1:]
    command: click.Command = root_command()
    ctx = click.Context(command, info_name="moodle-sync")
    while True:
        opts, rest, _ = command.make_parser(ctx).parse_args(args=list(args))
        eager = any(p.is_eager and opts.get(p.name or "") for p in command.get_params(ctx))   # --help, --version
        _check_values(command, ctx, opts, complete and not eager)
        if not isinstance(command, click.Group):
            if rest and complete:
                raise click.UsageError(f"unexpected extra argument(s) {rest}", ctx)
            return
        if not rest:
            assert eager or not complete, f"{line}: no command given"
            return
        name, sub, args = command.resolve_command(ctx, rest)
        assert name is not None and sub is not None
        command, ctx = sub, click.Context(sub, info_name=name, parent=ctx)


def _check_values(command: click.Command, ctx: click.Context, opts: dict[str, object], complete: bool) -> None:
    for param in command.get_params(ctx):
        value = opts.get(param.name or "")
        if isinstance(param.type, click.Choice) and value is not None:
            for v in value if isinstance(value, (list, tuple)) else [value]:
                param.type.convert(v, param, ctx)
        if complete and param.required and value is None:
            raise click.UsageError(f"missing {param.get_error_hint(ctx)}", ctx)


def test_the_python_example_runs_against_the_sandbox() -> None:
    code = python_example((ROOT / "README.md").read_text(encoding="utf-8"), "## Use it from Python")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("{'create': ") and lines[1].endswith("changes applied, ok: True")
    assert lines[2:] == ["300 selected", "300 enrolled", "pull: ok", "300 in the report, 0 completed"]


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_every_command_line_parses_with_the_real_cli(path: Path) -> None:
    lines = command_lines(path)
    assert len(lines) >= 10, f"{path}: expected its moodle-sync commands"
    wrong = []
    for number, line, complete in lines:
        try:
            check_command(line, complete=complete)
        except (click.UsageError, AssertionError) as exc:
            wrong.append(f"{path.name}:{number}: {line}: {exc}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(("line", "complete", "says"), [
    ("moodle-sync apply examples/offering-koding.yaml --no-such-option", True, "--no-such-option"),
    ("moodle-sync report koding-2026-a1 --format pdf", True, "pdf"),
    ("moodle-sync enrolment examples/offering-koding.yaml", True, "enrolment"),
    ("moodle-sync select examples/offering-koding.yaml", True, "--applicants"),
    ("moodle-sync withdraw OFFERING a@b.id c@d.id", True, "extra"),
    ("moodle-sync report --output", False, "--output"),
])
def test_the_check_catches_what_a_rename_would_break(line: str, complete: bool, says: str) -> None:
    with pytest.raises(click.UsageError, match=re.escape(says)):
        check_command(line, complete=complete)


def test_the_check_passes_a_right_line_and_finds_inline_commands(tmp_path: Path) -> None:
    check_command("moodle-sync --profile bgtk report koding-2026-a1 --format html --lang id  # note", complete=True)
    doc = tmp_path / "doc.md"
    doc.write_text("Run `moodle-sync doctor --json` first.\n\n```\nmoodle-sync pull --full\nls\n```\n\n"
                   "```python\nmoodle-sync = 1\n```\n", encoding="utf-8")
    assert command_lines(doc) == [(4, "moodle-sync pull --full", True), (1, "moodle-sync doctor --json", False)]
