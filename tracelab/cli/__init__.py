"""The ``tracelab`` command line.

Every module in this package (other than those starting with ``_``) that defines a module-level
``command`` (a :class:`click.Command` or :class:`click.Group`) is a subcommand of the root group,
so a command lives in one small module and this file never needs editing when one is added.
Modules are imported on demand (see ``_LazyGroup``): this is the one place that loads
subcommands lazily, for start-up time. ``tracelab --help`` lists the commands from their
modules' source (the decorated ``command``'s name and docstring) without importing them.

Errors are turned into one line on stderr and an exit code here, once, for every command
(:meth:`_LazyGroup.main`, :mod:`tracelab.cli._errors`); commands just raise
:class:`tracelab.errors.TracelabError` subclasses.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from pathlib import Path
from typing import Any

import click

from tracelab import __version__
from tracelab.cli import _errors

__all__ = ["cli", "main"]


class _LazyGroup(click.Group):
    """Imports a command's module only when that command runs (or when help lists them all):
    ``tracelab ingest`` on an unchanged corpus should not pay for importing the report, chart
    and redaction stacks."""

    def _module_names(self) -> list[str]:
        return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))

    def _load(self, module_name: str) -> click.Command | None:
        module = importlib.import_module(f"{__name__}.{module_name}")
        command = getattr(module, "command", None)
        return command if isinstance(command, click.Command) else None

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = set(self.commands)
        for m in self._module_names():
            cmd = self._load(m)
            if cmd is not None and cmd.name:
                self.commands.setdefault(cmd.name, cmd)
                names.add(cmd.name)
        return sorted(names)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The "Commands" section of ``--help`` as click writes it, each command's name and short
        help read from its module's source (:func:`_declared_command`) rather than by importing
        it (the modules import the ingest, report, chart and redaction stacks); a module whose
        command is not declared in the usual way is imported."""
        listed: dict[str, click.Command] = {}
        for m in self._module_names():
            cmd = self.commands.get(m.replace("_", "-")) or _declared_command(Path(__path__[0]) / f"{m}.py") or self._load(m)
            if cmd is not None and cmd.name:
                listed.setdefault(cmd.name, cmd)
        for name, cmd in self.commands.items():
            listed.setdefault(name, cmd)
        commands = [(name, listed[name]) for name in sorted(listed) if not listed[name].hidden]
        if commands:
            limit = formatter.width - 6 - max(len(name) for name, _ in commands)
            with formatter.section("Commands"):
                formatter.write_dl([(name, cmd.get_short_help_str(limit)) for name, cmd in commands])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        module_name = cmd_name.replace("-", "_")
        if module_name in self._module_names():
            cmd = self._load(module_name)
            if cmd is not None and cmd.name == cmd_name:
                self.commands[cmd_name] = cmd
                return cmd
        self.list_commands(ctx)  # a command whose name differs from its module's
        return self.commands.get(cmd_name)

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        """Run the command line; in standalone mode (the console script, ``CliRunner``) every
        error ends here as one line on stderr and its exit code (see :mod:`tracelab.cli._errors`)."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        argv = list(sys.argv[1:] if args is None else args)
        debug = _debug_requested(argv)
        try:
            rv = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except SystemExit:
            raise
        except BaseException as exc:  # noqa: BLE001 - the one place every error is reported
            sys.exit(_errors.report(exc, debug=debug, argv=argv))
        sys.exit(rv if isinstance(rv, int) else 0)


_DECORATORS = {("click", "command"), ("click", "group")}
_LITERAL_KEYWORDS = ("name", "help", "short_help", "hidden", "deprecated")


def _declared_command(path: Path) -> click.Command | None:
    """A stand-in for the command module ``path`` declares, read from its source: the module-level
    ``def command`` decorated with ``@click.command(NAME, ...)`` or ``@click.group(NAME, ...)``,
    with that name, its docstring as help and the decorator's literal ``short_help`` / ``hidden``
    / ``deprecated``. None when the source is not there or declares it otherwise."""
    import ast  # only for --help (start-up of every other command)

    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None
    for node in tree.body:
        if not (isinstance(node, ast.FunctionDef) and node.name == "command"):
            continue
        for dec in node.decorator_list:
            f = dec.func if isinstance(dec, ast.Call) else None
            if not (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and (f.value.id, f.attr) in _DECORATORS):
                continue
            assert isinstance(dec, ast.Call)
            try:
                args = [ast.literal_eval(a) for a in dec.args[:1]]
                kw = {k.arg: ast.literal_eval(k.value) for k in dec.keywords if k.arg in _LITERAL_KEYWORDS}
            except ValueError:
                return None
            name = args[0] if args else kw.get("name")
            if not isinstance(name, str):
                return None
            help_text = kw.get("help") or ast.get_docstring(node, clean=False)
            return click.Command(name, help=help_text, short_help=kw.get("short_help"), hidden=bool(kw.get("hidden")), deprecated=kw.get("deprecated", False))
        return None
    return None


def _debug_requested(argv: list[str]) -> bool:
    """``--debug`` before the subcommand's name (the root group's options are all flags), or
    ``TRACELAB_DEBUG`` set to anything but 0."""
    root_opts = []
    for a in argv:
        if not a.startswith("-"):
            break
        root_opts.append(a)
    return "--debug" in root_opts or os.environ.get("TRACELAB_DEBUG", "") not in ("", "0")


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="tracelab")
@click.option("--debug", is_flag=True, envvar="TRACELAB_DEBUG", help="On an unexpected error, print the full traceback (else it goes to a file).")
def cli(debug: bool) -> None:
    """tracelab: coding-agent traces (Claude Code, Codex, Pi, Gemini CLI, Copilot CLI, OpenTelemetry, Hub STS) as a Parquet warehouse.

    \b
    Quick start:
      tracelab ingest                      # read ~/.claude, ~/.codex, ~/.pi into ./warehouse
      tracelab info                        # what the warehouse holds
      tracelab sql "SELECT agent, count(*) FROM sessions GROUP BY 1"
      tracelab query list                  # named, parameterized SQL
      tracelab search "permission denied"  # full-text over every session
      tracelab failures                    # failure clusters with trends
      tracelab sessions --has-errors       # sessions newest first, one line each
      tracelab session ID --around 30      # one session step by step (--html page.html)
    """


def main() -> None:
    cli(prog_name="tracelab")
