"""The ``tracelab`` command line.

Every module in this package (other than those starting with ``_``) that defines a module-level
``command`` (a :class:`click.Command` or :class:`click.Group`) is a subcommand of the root group,
so a command lives in one small module and this file never needs editing when one is added.
Modules are imported on demand (see ``_LazyGroup``).
"""

from __future__ import annotations

import importlib
import pkgutil

import click

from tracelab import __version__

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


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="tracelab")
def cli() -> None:
    """tracelab: coding-agent traces (Claude Code, Codex, Pi) as a Parquet warehouse.

    \b
    Quick start:
      tracelab ingest                      # read ~/.claude, ~/.codex, ~/.pi into ./warehouse
      tracelab info                        # what the warehouse holds
      tracelab sql "SELECT agent, count(*) FROM sessions GROUP BY 1"
      tracelab query list                  # named, parameterized SQL
      tracelab search "permission denied"  # full-text over every session
      tracelab failures                    # failure clusters with trends
    """


def main() -> None:
    cli(prog_name="tracelab")
