"""``tracelab redact``: write safe-to-share copies of trace files, or gate publishing with --check."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tracelab.redact.files import redact_paths
from tracelab.redact.policy import Policy, env_secrets, read_lines_file


def _build_policy(
    *,
    builtin: bool,
    rules: tuple[str, ...],
    secret_files: tuple[str, ...],
    deny: tuple[str, ...],
    deny_files: tuple[str, ...],
    key: str | None,
    emails: bool,
    ips: bool,
    hostnames: bool,
    paths: bool,
    high_entropy: bool,
    env: bool,
    usernames: tuple[str, ...],
    phones: bool = True,
) -> Policy:
    known: list[str] = []
    for f in secret_files:
        known += read_lines_file(f)
    if env:
        known += env_secrets()
    words = list(deny)
    for f in deny_files:
        words += read_lines_file(f)
    return Policy(
        builtin=builtin,
        emails=emails,
        ip_addresses=ips,
        hostnames=hostnames,
        home_paths=paths,
        phone_numbers=phones,
        high_entropy=high_entropy,
        known_secrets=tuple(known),
        deny=tuple(words),
        usernames=tuple(usernames),
        rules_files=rules,
        key=key.encode("utf-8") if key else None,
    )


@click.command(name="redact")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Output directory (required unless --check).")
@click.option("--check", is_flag=True, help="Publishing gate: write nothing, exit 1 if any detector fires.")
@click.option("--rules", multiple=True, type=click.Path(exists=True, dir_okay=False), help="gitleaks-format TOML rule file (repeatable).")
@click.option("--no-builtin", is_flag=True, help="Disable the built-in secret detectors (use only --rules and literals).")
@click.option("--secret-file", multiple=True, type=click.Path(exists=True, dir_okay=False), help="File of exact secret values, one per line (repeatable).")
@click.option("--deny", multiple=True, metavar="WORD", help="Word to redact everywhere, case-insensitive (repeatable).")
@click.option("--deny-file", multiple=True, type=click.Path(exists=True, dir_okay=False), help="File of deny words, one per line.")
@click.option("--username", "usernames", multiple=True, metavar="NAME", help="Username to pseudonymise everywhere (repeatable).")
@click.option("--key", envvar="TRACELAB_REDACT_KEY", help="Pseudonym key (default: $TRACELAB_REDACT_KEY; else random per run).")
@click.option("--emails/--no-emails", default=True, show_default=True, help="Pseudonymise email addresses.")
@click.option("--ips/--no-ips", default=True, show_default=True, help="Redact IP addresses.")
@click.option("--hostnames/--no-hostnames", default=False, show_default=True, help="Pseudonymise non-public host names.")
@click.option("--phones/--no-phones", default=True, show_default=True, help="Redact phone numbers (international, or national after a phone word).")
@click.option("--paths/--no-paths", default=True, show_default=True, help="Pseudonymise usernames in home-directory paths.")
@click.option("--high-entropy/--no-high-entropy", default=True, show_default=True, help="Redact random-looking tokens in secret contexts.")
@click.option("--env-secrets/--no-env-secrets", default=True, show_default=True, help="Treat values of secret-named environment variables as known secrets.")
@click.option("--keep-names", is_flag=True, help="Do not redact usernames in output file/directory names.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), help="Write the JSON findings report here.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON report on stdout instead of the summary.")
@click.option("--max-findings", type=int, default=None, help="Cap the findings listed in the JSON report (counts stay exact).")
@click.option("--quiet", "-q", is_flag=True, help="No summary on stderr.")
def command(
    inputs: tuple[Path, ...],
    out_dir: Path | None,
    check: bool,
    rules: tuple[str, ...],
    no_builtin: bool,
    secret_file: tuple[str, ...],
    deny: tuple[str, ...],
    deny_file: tuple[str, ...],
    usernames: tuple[str, ...],
    key: str | None,
    emails: bool,
    ips: bool,
    hostnames: bool,
    phones: bool,
    paths: bool,
    high_entropy: bool,
    env_secrets: bool,
    keep_names: bool,
    report_path: Path | None,
    as_json: bool,
    max_findings: int | None,
    quiet: bool,
) -> None:
    """Redact secrets and identities from Claude Code / Codex / Pi JSONL traces.

    \b
    Output keeps the format: same lines, same order; only detected spans change
    (typed markers like [REDACTED:github_token]; keyed pseudonyms for usernames,
    emails and host names). Unchanged lines are byte-identical.

    \b
    Examples:
      tracelab redact ~/.claude/projects --out shared/
      tracelab redact --check shared/            # exit 1 if anything still fires
      tracelab redact s.jsonl --out o/ --rules gitleaks.toml --deny acme
    """
    from tracelab.redact.engine import Redactor

    if not check and out_dir is None:
        raise click.UsageError("--out DIR is required (or use --check)")
    policy = _build_policy(
        builtin=not no_builtin,
        rules=rules,
        secret_files=secret_file,
        deny=deny,
        deny_files=deny_file,
        key=key,
        emails=emails,
        ips=ips,
        hostnames=hostnames,
        paths=paths,
        high_entropy=high_entropy,
        env=env_secrets,
        usernames=usernames,
        phones=phones,
    )
    redactor = Redactor(policy)
    report = redact_paths(redactor, [str(p) for p in inputs], out_dir, check=check, keep_names=keep_names)
    if report_path is not None:
        report_path.parent.mkdir(parents=True, exist_ok=True)
        report_path.write_text(report.to_json(max_findings=max_findings) + "\n", encoding="utf-8")
    if as_json:
        click.echo(report.to_json(max_findings=max_findings))
    elif not quiet:
        click.echo(report.summary(), err=True)
    if check and not report.clean:
        sys.exit(1)
