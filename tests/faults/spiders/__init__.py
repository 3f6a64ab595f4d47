"""Spiders used only by the fault suite (enabled with ``-s SPIDER_MODULES=tests.faults.spiders``)."""
