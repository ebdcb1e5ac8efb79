"""``python -m tracelab`` and the ``tracelab`` console script."""

import sys


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["ingest"]:
        # the no-op re-run is answered before click and the command modules are imported; any
        # trouble there (a corrupt or unreadable warehouse) is left to the full command, which
        # reports it in one line like every other error
        from tracelab.ingest.unchanged import answer_command_line

        try:
            if answer_command_line(args[1:]):
                return
        except KeyboardInterrupt:
            print("tracelab: Aborted", file=sys.stderr)
            sys.exit(130)
        except Exception:  # noqa: BLE001 - the full command below reports it
            pass
    from tracelab.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
