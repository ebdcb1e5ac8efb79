"""``python -m tracelab`` and the ``tracelab`` console script."""

import sys


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["ingest"]:
        # the no-op re-run is answered before click and the command modules are imported
        from tracelab.ingest.unchanged import answer_command_line

        if answer_command_line(args[1:]):
            return
    from tracelab.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
