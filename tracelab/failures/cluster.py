"""Failure events → cluster ids, members and per-cluster summaries.

The pipeline, for event families:

    text ──normalize──▶ key line ──mask──▶ fingerprint ──Drain (set, sorted)──▶ template
    cluster_id = <family code>-hash(rules version, family, tool family, template)

For episode families the template is a fixed description per (family, variant) — e.g.
``retry_storm`` / shell: "3+ consecutive failed calls of one tool" — so their ids are
constants too.

Why the ids are stable: a fingerprint depends on its own message only; the Drain step depends
on the *set* of distinct fingerprints, sorted, never on order or repetition; and the id
depends on nothing but (family, tool family, template) text. Re-ingesting in another order or
in several batches therefore gives identical ids. New data can change an id only when it makes
Drain generalise an existing template (a new variant of a line that differs in one or two
literal tokens); :mod:`benchmarks.failures_bench` measures how often that happens.
"""

from __future__ import annotations

import hashlib

import polars as pl

from tracelab.failures import behaviour as B
from tracelab.failures import drain
from tracelab.failures.normalize import RULES_VERSION, normalize_frame, tool_family

EXCERPT_CHARS = 300
#: Sub-kinds whose key lines the normalizer builds itself — canned (pytest, no output) or
#: assembled from structured fields (API errors: status / type / message; hooks: name /
#: framing). They are never mined: a slot like the API error type must not become ``<*>``.
FIXED_SUBKINDS = ("pytest", "no_output", "empty", "api", "hook")
#: Families whose lines are canonical already (see behaviour.canonical_text_expr).
FIXED_FAMILIES = ("user_rejection", "interrupt")
EXEMPLARS = 3


def cluster_id(family: str, tool_fam: str, template: str) -> str:
    h = hashlib.blake2b(f"{RULES_VERSION}\x1f{family}\x1f{tool_fam}\x1f{template}".encode(), digest_size=6).hexdigest()
    return f"{B.FAMILY_CODES.get(family, 'xx')}-{h}"


def _with_tool_family(df: pl.DataFrame) -> pl.DataFrame:
    names = df.get_column("tool_name").unique().to_list()
    mapping = pl.DataFrame({"tool_name": names, "tool_family": [tool_family(n) for n in names]}, schema={"tool_name": pl.String, "tool_family": pl.String})
    return df.join(mapping, on="tool_name", how="left", nulls_equal=True)


def assign(df: pl.DataFrame) -> pl.DataFrame:
    """Cluster failure events.

    ``df`` needs ``text``, ``family`` and ``tool_name``; returned with ``tool_family``, ``key``
    (the informative line), ``subkind``, ``fingerprint``, ``template`` and ``cluster_id``.
    """
    if "tool_family" not in df.columns:
        df = _with_tool_family(df)
    if "status" not in df.columns:
        df = df.with_columns(pl.lit(None, pl.String).alias("status"))
    # interrupts are about the session, whichever tool was running; model/hook failures
    # with no tool belong to the session too
    df = df.with_columns(
        pl.when(
            (pl.col("family") == "interrupt")
            | (pl.col("family").is_in(["api_error", "rate_limit", "hook_block", "hook_error"]) & (pl.col("tool_family") == "none"))
        )
        .then(pl.lit("session"))
        .otherwise(pl.col("tool_family"))
        .alias("tool_family")
    )
    special = pl.col("family").is_in(["user_rejection", "interrupt"])
    if df.select(special.any()).item():
        # canonical lines for rejections/interrupts; the regexes run on those rows only
        df = df.with_row_index("_i")
        df = (
            pl.concat(
                [df.filter(special).with_columns(B.canonical_text_expr().alias("_ntext")), df.filter(~special).with_columns(pl.col("text").alias("_ntext"))]
            )
            .sort("_i")
            .drop("_i")
        )
    else:
        df = df.with_columns(pl.col("text").alias("_ntext"))
    df = normalize_frame(df, text="_ntext").drop("_ntext")
    tmpl = templates(df.select(*_GROUP).unique())
    return df.join(tmpl, on=_GROUP, how="left", nulls_equal=True)


_GROUP = ["family", "tool_family", "subkind", "fingerprint"]


def templates(groups: pl.DataFrame) -> pl.DataFrame:
    """``template`` and ``cluster_id`` for each distinct (family, tool family, subkind,
    fingerprint) of failure events: Drain over the set of fingerprints of each (family, tool
    family, subkind), except the fixed ones, whose fingerprint is the template."""
    mined = groups.filter(~pl.col("subkind").is_in(FIXED_SUBKINDS) & ~pl.col("family").is_in(FIXED_FAMILIES))
    mapping = drain.mine((((f, tf, sk), fp) for f, tf, sk, fp in mined.iter_rows()))
    fixed = groups.join(mined, on=_GROUP, how="anti", nulls_equal=True)
    mapping.update({((f, tf, sk), fp): fp for f, tf, sk, fp in fixed.iter_rows()})
    tmpl = pl.DataFrame(
        [(g[0], g[1], g[2], fp, t) for (g, fp), t in mapping.items()],
        schema={"family": pl.String, "tool_family": pl.String, "subkind": pl.String, "fingerprint": pl.String, "template": pl.String},
        orient="row",
    )
    ids = tmpl.select("family", "tool_family", "template").unique()
    ids = ids.with_columns(
        pl.struct("family", "tool_family", "template")
        .map_elements(lambda s: cluster_id(s["family"], s["tool_family"], s["template"]), return_dtype=pl.String)
        .alias("cluster_id")
    )
    return tmpl.join(ids, on=["family", "tool_family", "template"], how="left")


def retemplate(members: pl.DataFrame) -> pl.DataFrame:
    """``members`` (rows of ``failure_members``) with the template and cluster id of every
    event row mined again over all their fingerprints: what :func:`assign` gives when it sees
    all of them at once (Drain depends on the set of fingerprints only). Episode rows keep
    theirs (fixed descriptions)."""
    is_event = pl.col("role") == "event"
    events = members.filter(is_event)
    if events.height == 0:
        return members
    tmpl = templates(events.select(*_GROUP).unique())
    events = events.drop("template", "cluster_id").join(tmpl, on=_GROUP, how="left", nulls_equal=True)
    return pl.concat([events.select(members.columns), members.filter(~is_event)])


# ------------------------------------------------------------------------------ episodes
def _episode_frame(
    df: pl.DataFrame,
    family: str,
    template: pl.Expr,
    variant: pl.Expr,
    *,
    run_length: str | None = None,
    related: str | None = None,
    trigger: pl.Expr | None = None,
) -> pl.DataFrame:
    if df.height == 0:
        return pl.DataFrame()
    if "tool_family" not in df.columns:
        df = _with_tool_family(df)
    out = df.with_columns(
        pl.lit(family).alias("family"),
        variant.alias("tool_family"),
        template.alias("template"),
        (pl.col(run_length).cast(pl.Int32) if run_length else pl.lit(None, pl.Int32)).alias("run_length"),
        (pl.col(related).cast(pl.String) if related else pl.lit(None, pl.String)).alias("related_event_key"),
        (trigger if trigger is not None else pl.lit("")).alias("_trigger"),
    )
    ids = out.select("family", "tool_family", "template").unique()
    ids = ids.with_columns(
        pl.struct("family", "tool_family", "template")
        .map_elements(lambda s: cluster_id(s["family"], s["tool_family"], s["template"]), return_dtype=pl.String)
        .alias("cluster_id")
    )
    out = out.join(ids, on=["family", "tool_family", "template"], how="left")
    return out.with_columns(
        pl.concat_str([pl.lit(family), pl.col("_trigger"), pl.col("event_key")], separator=":").alias("member_key"),
        pl.lit("episode").alias("role"),
        pl.col("template").alias("fingerprint"),
        pl.lit(None, pl.String).alias("key"),
    ).drop("_trigger")


def episodes(loops: pl.DataFrame, storms: pl.DataFrame, context: pl.DataFrame, abandoned: pl.DataFrame) -> list[pl.DataFrame]:
    """Member rows of the episode families (see ``README.md`` for each definition)."""
    out = []
    if loops.height:
        out.append(
            _episode_frame(
                loops,
                "loop",
                pl.lit(f"same tool call with identical input repeated {B.MIN_RUN}+ times in a row"),
                pl.col("tool_family"),
                run_length="run_length",
            )
        )
    if storms.height:
        out.append(
            _episode_frame(
                storms,
                "retry_storm",
                pl.when(pl.col("storm_kind") == "api")
                .then(pl.lit(f"{B.MIN_RUN}+ model API errors in a row without a successful response"))
                .otherwise(pl.lit(f"{B.MIN_RUN}+ consecutive failed calls of the same tool")),
                pl.when(pl.col("storm_kind") == "api").then(pl.lit("model")).otherwise(pl.col("tool_family")),
                run_length="run_length",
                trigger=pl.col("storm_kind"),
            )
        )
    if context.height:
        out.append(
            _episode_frame(
                context,
                "context_exhaustion",
                pl.when(pl.col("trigger") == "overflow")
                .then(pl.lit("model API error: the prompt no longer fits the context window"))
                .otherwise(pl.concat_str([pl.lit("compaction followed by "), pl.col("followed_by")])),
                pl.when(pl.col("trigger") == "overflow").then(pl.lit("model")).otherwise(pl.lit("session")),
                related="related_event_key",
                trigger=pl.col("trigger"),
            )
        )
    if abandoned.height:
        out.append(
            _episode_frame(
                abandoned,
                "abandoned_session",
                pl.concat_str([pl.lit("session ended right after "), pl.col("followed_by")]),
                pl.lit("session"),
            )
        )
    return out


# ------------------------------------------------------------------------------ summaries
def summarize(members: pl.DataFrame, n_sessions_total: int) -> pl.DataFrame:
    """One row per cluster: template, counts, spread, first/last seen, weekly counts, exemplars."""
    if members.height == 0:
        return pl.DataFrame()
    m = members.sort("ts", "source_file", "line_no", "event_key", nulls_last=True)
    first_per_session = m.unique(subset=["cluster_id", "session_key"], keep="first", maintain_order=True)
    exemplars = (
        first_per_session.group_by("cluster_id", maintain_order=True)
        .head(EXEMPLARS)
        .group_by("cluster_id", maintain_order=True)
        .agg(pl.struct("session_id", "session_key", "source_file", "line_no", "event_key", "tool_call_id").alias("exemplars"))
    )
    weekly = (
        m.group_by("cluster_id", "week")
        .agg(pl.len().alias("n"))
        .sort("cluster_id", "week")
        .group_by("cluster_id", maintain_order=True)
        .agg(pl.struct("week", pl.col("n").cast(pl.Int64)).alias("weekly"))
    )
    total = max(n_sessions_total, 1)
    base = m.group_by("cluster_id").agg(
        pl.col("family").first(),
        pl.col("role").first(),
        pl.col("tool_family").first(),
        pl.col("template").first(),
        pl.len().cast(pl.Int64).alias("n_events"),
        pl.col("session_key").n_unique().cast(pl.Int64).alias("n_sessions"),
        pl.col("agent").drop_nulls().unique().sort().alias("agents"),
        pl.col("model").drop_nulls().unique().sort().alias("models"),
        pl.col("tool_name").drop_nulls().unique().sort().alias("tools"),
        pl.col("ts").min().alias("first_seen"),
        pl.col("ts").max().alias("last_seen"),
        pl.col("fingerprint").n_unique().cast(pl.Int32).alias("n_fingerprints"),
    )
    out = (
        base.join(weekly, on="cluster_id", how="left")
        .join(exemplars, on="cluster_id", how="left")
        .with_columns(
            (pl.col("n_sessions") / total).alias("share_sessions"),
            pl.col("template").str.slice(0, 160).alias("name"),
            pl.lit(RULES_VERSION).alias("rules_version"),
        )
        .sort(["n_events", "cluster_id"], descending=[True, False])
    )
    return out
