"""Tools that work on a committed dataset (``OUTPUT_DIR``), one module a tool; none of them is a pipeline step.

Reached as ``scrapy dataset VERB OUTPUT_DIR [options]`` (:mod:`crawler.commands.dataset`, which holds the verb
registry) or, without Scrapy's command line, ``python -m pipelines.dataset.<module> OUTPUT_DIR [options]``.
Every tool module has the shape :mod:`.cli` describes: ``HELP``, ``add_arguments(parser)``,
``run(output_dir, args) -> exit code``.
"""
