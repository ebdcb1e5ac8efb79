"""The ``tracelab`` command line.

Every module in this package (other than those starting with ``_``) that defines a module-level
``command`` (a :class:`click.Command` or :class:`click.Group`) is added to the root group, so a
command lives in one small module and this file never needs editing when one is added.
"""

from __future__ import annotations

import importlib
import pkgutil

import click

from tracelab import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="tracelab")
def cli() -> None:
    """tracelab: coding-agent traces (Claude Code, Codex, Pi) as a Parquet warehouse.

    \b
    Quick start:
      tracelab ingest                      # read ~/.claude, ~/.codex, ~/.pi into ./warehouse
      tracelab sql "SELECT agent, count(*) FROM sessions GROUP BY 1"
      tracelab query list                  # named, parameterized SQL
    """


def _register() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        command = getattr(module, "command", None)
        if isinstance(command, click.Command):
            cli.add_command(command)


_register()


def main() -> None:
    cli(prog_name="tracelab")
