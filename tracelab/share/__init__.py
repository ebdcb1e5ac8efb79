"""``tracelab share``: a Hub-ready, redacted, checked dataset folder from a warehouse selection.

    from tracelab.share import ShareOptions, build_share
    res = build_share("warehouse", "my-traces", options=ShareOptions(agent="claude"), confirm=lambda r: True)

See :mod:`tracelab.share.build` for the layout and the gate, :mod:`tracelab.share.strip` for what
is stripped, :mod:`tracelab.share.card` for the dataset card, :mod:`tracelab.share.hub` for
``--push``.
"""

from tracelab.share.build import ShareOptions, ShareRefused, ShareResult, build_share, measure_recall, report_dict
from tracelab.share.hub import planned_operations, push
from tracelab.share.strip import StripOptions

__all__ = ["ShareOptions", "ShareRefused", "ShareResult", "StripOptions", "build_share", "measure_recall", "planned_operations", "push", "report_dict"]
