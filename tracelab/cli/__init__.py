"""The ``tracelab`` command line.

Every module in this package (other than those starting with ``_``) that defines a module-level
``command`` (a :class:`click.Command` or :class:`click.Group`) is a subcommand of the root group,
so a command lives in one small module and this file never needs editing when one is added.
Modules are imported on demand (see ``_LazyGroup``): this is the one place that loads
subcommands lazily, for start-up time.

Errors are turned into one line on stderr and an exit code here, once, for every command
(:meth:`_LazyGroup.main`, :mod:`tracelab.cli._errors`); commands just raise
:class:`tracelab.errors.TracelabError` subclasses.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
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
