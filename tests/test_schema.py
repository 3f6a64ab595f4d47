from pathlib import Path

from crawler.items import ArticleRecord, CommentRecord, ThreadRecord, field_names
from pipelines.schema import TABLES, arrow_schema, render_markdown

REPO = Path(__file__).resolve().parent.parent


def test_docs_schema_md_is_generated_from_code():
    assert (REPO / "docs" / "schema.md").read_text() == render_markdown(), \
        "run: python -m pipelines.schema > docs/schema.md"


def test_records_have_exactly_the_schema_columns():
    for cls in (ArticleRecord, ThreadRecord, CommentRecord):
        assert sorted(field_names(cls)) == sorted(c.name for c in TABLES[cls.table]), cls.__name__


def test_every_column_is_documented_with_an_example():
    for table, cols in TABLES.items():
        schema = arrow_schema(table)
        for c in cols:
            assert len(c.doc) > 10 and c.example, (table, c.name)
            assert schema.field(c.name).metadata[b"doc"] == c.doc.encode()
