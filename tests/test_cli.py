"""The root command group loads subcommands lazily: every module's command is found by its
name, `--help` lists them all, and starting the CLI imports none of the heavy stacks."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import click
from click.testing import CliRunner

import tracelab.cli as cli_pkg
from tracelab.cli import cli


def _modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(cli_pkg.__path__) if not m.name.startswith("_"))


def test_each_module_command_is_named_after_its_module():
    for name in _modules():
        cmd = importlib.import_module(f"tracelab.cli.{name}").command
        assert isinstance(cmd, click.Command)
        assert cmd.name == name.replace("_", "-"), name
        assert cli.get_command(click.Context(cli), cmd.name) is cmd


def test_help_lists_every_command_and_unknown_ones_fail():
    out = CliRunner().invoke(cli, ["--help"])
    assert out.exit_code == 0
    listed = out.output.split("Commands:")[1]
    for name in _modules():
        assert f"\n  {name.replace('_', '-')} " in listed, name
    bad = CliRunner().invoke(cli, ["no-such-command"])
    assert bad.exit_code == 2 and "No such command" in bad.output


def test_cli_start_is_light():
    code = "import sys; import tracelab.cli; print(sorted(m for m in ('pyarrow', 'duckdb', 'polars', 'pandas', 'altair') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
