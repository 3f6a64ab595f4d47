"""Scrapy's check for generator callbacks with ``return value`` (a returned value is lost in a generator), run once
on every generator method of our spiders here instead of on every response during a crawl
(``WARN_ON_GENERATOR_RETURN_VALUE = False`` in crawler/settings.py: the per-response check parsed the callback's
source with ``ast`` whenever its cache missed, ~3 % of the crawl's CPU)."""
from __future__ import annotations

import inspect

import pytest
from scrapy.utils.misc import is_generator_with_return_value
from scrapy.utils.project import get_project_settings

from crawler.spiders.demo import DemoSpider
from crawler.spiders.news import NewsSpider
from crawler.spiders.warc import WarcSpider

SPIDERS = (DemoSpider, NewsSpider, WarcSpider)


def generator_methods(cls):
    for name, member in inspect.getmembers(cls, inspect.isgeneratorfunction):
        yield f"{cls.__name__}.{name}", member


def test_the_check_finds_a_generator_that_returns_a_value():
    def bad(response):
        yield 1
        return 2

    def good(response):
        yield 1
        return

    assert is_generator_with_return_value(bad)
    assert not is_generator_with_return_value(good)


@pytest.mark.parametrize("spider", SPIDERS, ids=lambda s: s.__name__)
def test_no_spider_generator_returns_a_value(spider):
    methods = dict(generator_methods(spider))
    assert methods, f"{spider.__name__} has no generator methods: the check would test nothing"
    bad = [name for name, fn in methods.items() if is_generator_with_return_value(fn)]
    assert bad == [], f"generators whose returned value Scrapy would drop: {bad}"


def test_the_per_response_check_is_off_in_the_project_settings():
    assert get_project_settings().getbool("WARN_ON_GENERATOR_RETURN_VALUE") is False
