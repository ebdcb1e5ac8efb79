"""``tracelab failures``: failure clusters, their trends, and exemplars in context."""

from __future__ import annotations

import sys

import click

from tracelab.cli._common import ISO_TIME, emit_rows, to_json, warehouse_option, warn_absent

_LIST_COLUMNS = ("cluster_id", "family", "tool", "events", "sessions", "share", "trend", "now/prev", "last_seen", "name")


class CommaChoice(click.ParamType):
    """One or more values from a fixed set, given as a comma list (``claude,codex``); the
    option may also be repeated. ``choices`` may be a callable, called only when a value is
    checked, so ``--help`` does not import what defines the set."""

    def __init__(self, choices, metavar: str | None = None, what: str = "value") -> None:
        self._choices = choices
        self._metavar = metavar
        self.what = what
        self.name = what

    @property
    def choices(self) -> tuple[str, ...]:
        c = self._choices() if callable(self._choices) else self._choices
        return tuple(c)

    def get_metavar(self, param, ctx=None) -> str:  # click 8.2+ passes ctx
        return self._metavar or "[" + "|".join(self.choices) + "]"

    def convert(self, value, param, ctx):
        items = [x.strip() for x in str(value).split(",") if x.strip()]
        valid = self.choices
        bad = [x for x in items if x not in valid]
        if bad:
            self.fail(f"unknown {self.what} {', '.join(map(repr, bad))}; choose from: {', '.join(valid)}", param, ctx)
        return ",".join(items)


def _agents() -> tuple[str, ...]:
    from tracelab.ingest.registry import ADAPTER_MODULES

    return ADAPTER_MODULES


def _families() -> tuple[str, ...]:
    from tracelab.failures.behaviour import FAMILIES

    return FAMILIES


def _fmt_share(v: float | None) -> str:
    return "" if v is None else f"{100.0 * v:.1f}%"


def _load(warehouse: str):
    from tracelab.failures import api

    return api.load(warehouse)


def _only_project(f, warehouse: str, project: str):
    """``f`` with only the failures and sessions of ``project``'s sessions."""
    import dataclasses

    import polars as pl

    from tracelab.catalog import connect
    from tracelab.scope import check_project, project_session_keys

    con = connect(warehouse)
    try:
        check_project(con, project)
        keys = project_session_keys(con, project)
    finally:
        con.close()
    keep = pl.col("session_key").is_in(keys)
    return dataclasses.replace(f, members=f.members.filter(keep), sessions=f.sessions.filter(keep) if "session_key" in f.sessions.columns else f.sessions)


@click.group("failures", invoke_without_command=True)
@warehouse_option
@click.option("--since", type=ISO_TIME, help="Count failures at or after this date/time (ISO, UTC).")
@click.option("--until", type=ISO_TIME, help="Count failures before this date/time (ISO, UTC).")
@click.option("--agent", multiple=True, type=CommaChoice(_agents(), what="agent"), help="Only these agents (repeatable or comma list).")
@click.option(
    "--model",
    multiple=True,
    help="Only these models, exact names as logged (repeatable or comma list); a name no session uses draws a warning listing the models present.",
)
@click.option("--tool", multiple=True, help="Only these tool names or tool families (shell, file, web, mcp, …).")
@click.option(
    "--family",
    multiple=True,
    type=CommaChoice(_families, metavar="FAMILY", what="failure family"),
    help="Only these failure families (tool_error, user_rejection, loop, retry_storm, …; repeatable or comma list; an unknown name is an error that lists them all).",
)
@click.option("--project", help="Only this project's sessions (an unknown name draws a warning listing the closest).")
@click.option("--limit", "-n", type=int, default=30, show_default=True, help="Rows in the table (0 = all; JSON is never cut).")
@click.option("--merge", is_flag=True, help="Collapse near-duplicate templates (TF-IDF cosine, offline).")
@click.option("--json", "as_json", is_flag=True, help="Print clusters as a JSON array.")
@click.pass_context
def command(ctx, warehouse, since, until, agent, model, tool, family, project, limit, merge, as_json):
    """Failure clusters: deterministic templates of tool errors plus behaviour failures
    (loops, retry storms, API errors, rate limits, interrupts, rejections, permission
    denials, hook blocks, context exhaustion, abandoned sessions).

    \b
    Each row is one cluster with a stable id, its family, counts over --since/--until,
    the share of sessions it touched, and its trend: events in the current window against
    the window of the same length just before it (now/prev). The current window is
    --since..--until; without --since it is the 7 days before --until, or before the
    latest failure matching the filters (the data's last failure, not today's date).

    \b
    Trend labels (first match wins):
      new        events now, none ever before the current window
      returning  events now, none in the previous window, some earlier
      growing    >= 2 events now and >= 1.5 x the previous window
      shrinking  events now; the previous window had >= 1.5 x as many
      gone       none now, some in the previous window
      dormant    none in either window (last seen earlier)
      steady     events in both windows, within a factor of 1.5

    \b
      tracelab failures --since 2026-01-01 --agent claude
      tracelab failures show te-1a2b3c4d5e6f
    """
    ctx.ensure_object(dict)
    ctx.obj["warehouse"] = warehouse
    if ctx.invoked_subcommand is not None:
        return
    from tracelab.failures import api

    def flat(v):
        return [x for item in v for x in item.split(",") if x.strip()] or None

    f = _load(warehouse)
    if project:
        f = _only_project(f, warehouse, project)
    models = flat(model)
    if models:
        warn_absent("model", models, api.models_present(f))
    df = api.clusters(f, since=since, until=until, agent=flat(agent), model=models, tool=flat(tool), family=flat(family), merge=merge)
    if as_json:
        sys.stdout.write(to_json(df.to_dicts()))
        sys.stdout.write("\n")
        return
    rows = []
    shown = df if not limit else df.head(limit)
    for r in shown.iter_rows(named=True):
        rows.append(
            (
                r["cluster_id"],
                r["family"],
                r["tool_family"],
                r["n_events"],
                r["n_sessions"],
                _fmt_share(r["share_sessions"]),
                r["trend"],
                f"{r['n_current']}/{r['n_previous']}",
                r["last_seen"].strftime("%Y-%m-%d") if r.get("last_seen") is not None else "",
                r["name"],
            )
        )
    emit_rows(_LIST_COLUMNS, rows, "table")
    if limit and df.height > limit:
        click.echo(f"… {df.height - limit} more clusters (use --limit 0 or --json)")
    if df.height == 0:
        click.echo("no failure clusters match these filters")
    else:
        first = df.row(0, named=True)
        click.echo(f"trend window {first['trend_since']:%Y-%m-%d %H:%M} → {first['trend_until']:%Y-%m-%d %H:%M} UTC vs the same span before it")
    if not f.persisted:
        click.echo("(computed on the fly: the warehouse has no up-to-date failure tables; `tracelab failures build` stores them)", err=True)


@command.command("show")
@click.argument("cluster_id")
@click.option(
    "--warehouse",
    "-w",
    type=click.Path(file_okay=False),
    default=None,
    help="Warehouse directory (default: the -w given to `tracelab failures`, else TRACELAB_WAREHOUSE or ./warehouse).",
)
@click.option("--exemplars", "-n", type=int, default=3, show_default=True, help="Exemplars to print (one per session).")
@click.option("--before", type=int, default=3, show_default=True, help="Events shown before each exemplar.")
@click.option("--after", type=int, default=3, show_default=True, help="Events shown after each exemplar.")
@click.option("--json", "as_json", is_flag=True, help="Print the cluster and exemplars as JSON.")
@click.pass_context
def show_command(ctx, cluster_id, warehouse, exemplars, before, after, as_json):
    """One cluster: its template and spread, and exemplars with the events around them."""
    from tracelab.failures import api

    wh = warehouse or (ctx.obj or {}).get("warehouse") or "warehouse"
    f = _load(wh)
    res = api.show(f, cluster_id, exemplars=exemplars, before=before, after=after)
    c = res["cluster"]
    if as_json:
        out = {"cluster": c, "exemplars": [{"member": e["member"], "context": e["context"].to_dicts()} for e in res["exemplars"]]}
        sys.stdout.write(to_json(out))
        sys.stdout.write("\n")
        return
    click.echo(f"cluster   {c['cluster_id']}   ({c['family']}, {c['role']}, tool family {c['tool_family']})")
    click.echo(f"template  {c['template']}")
    click.echo(
        f"events    {c['n_events']} in {c['n_sessions']} sessions ({_fmt_share(c['share_sessions'])} of sessions), "
        f"{c['n_fingerprints']} distinct fingerprint(s)"
    )
    click.echo(f"seen      {c['first_seen']:%Y-%m-%d %H:%M} → {c['last_seen']:%Y-%m-%d %H:%M} UTC")
    click.echo(f"agents    {', '.join(c['agents'] or [])}")
    click.echo(f"models    {', '.join(c['models'] or [])}")
    click.echo(f"tools     {', '.join(c['tools'] or [])}")
    weekly = c.get("weekly") or []
    if weekly:
        click.echo("weekly    " + "  ".join(f"{w['week']:%Y-%m-%d}:{w['n']}" for w in weekly))
    opens = _open_commands(wh, [e["member"] for e in res["exemplars"]])
    for i, e in enumerate(res["exemplars"], 1):
        m = e["member"]
        click.echo("")
        click.echo(f"── exemplar {i}: session {m['session_id'] or m['session_key']}  {m['source_file']}:{m['line_no']}")
        if m.get("event_key") in opens:
            click.echo(f"   open:     {opens[m['event_key']]}")
        if m.get("excerpt"):
            click.echo(f"   key line: {m['excerpt']}")
        rows = []
        for r in e["context"].iter_rows(named=True):
            text = (r["text"] or "").strip().replace("\n", " ⏎ ")
            rows.append(
                (
                    (">> " if r["offset"] == 0 else "   ") + str(r["offset"]),
                    r["ts"].strftime("%H:%M:%S") if r["ts"] is not None else "",
                    r["kind"],
                    r["tool_name"] or "",
                    r["status"] or "",
                    r["line_no"],
                    text[:140] + ("…" if len(text) > 140 else ""),
                )
            )
        emit_rows(("offset", "time", "kind", "tool", "status", "line", "text"), rows, "table")


def _open_commands(warehouse, members) -> dict:
    """``tracelab session … --around N`` for each exemplar (by event key; ``members``: the
    exemplars' member rows, whose session keys spare a lookup of the events by key)."""
    from tracelab.session.locate import around_command, locate_needs, locate_steps
    from tracelab.store.connection import Store

    sessions = {m["event_key"]: m.get("session_key") for m in members if m.get("event_key")}
    with Store(warehouse, needs=locate_needs()) as store:
        found = locate_steps(store.con, list(sessions), sessions)
    return {e: around_command(k, n) for e, (k, n) in found.items()}


@command.command("build")
@click.option(
    "--warehouse",
    "-w",
    type=click.Path(file_okay=False),
    default=None,
    help="Warehouse directory (default: the -w given to `tracelab failures`, else TRACELAB_WAREHOUSE or ./warehouse).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the row counts as JSON.")
@click.pass_context
def build_command(ctx, warehouse, as_json):
    """Recompute the failure tables and commit them into the warehouse snapshot."""
    from tracelab.failures import api

    wh = warehouse or (ctx.obj or {}).get("warehouse") or "warehouse"
    res = api.build(wh)
    if as_json:
        click.echo(to_json(res))
    else:
        click.echo(f"failure tables written: {res['members']} members, {res['clusters']} clusters (rules {res['rules_version']})")
