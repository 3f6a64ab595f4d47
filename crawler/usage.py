"""Usage problems: something the operator typed or configured is wrong (an unknown source, an invalid registry
entry, a missing spider argument, a bad setting value).

Raise :class:`UsageProblem` with one line saying what is wrong and what is allowed; ``scrapy crawl`` prints
that line on stderr and exits 2 (``crawler.exitcodes.USAGE``), without a traceback.
"""
from __future__ import annotations


class UsageProblem(ValueError):
    """A usage error: the message is the one line shown to the operator."""
