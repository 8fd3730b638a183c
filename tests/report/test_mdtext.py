from __future__ import annotations

from migration_guard.report import mdtext


def test_code_span_survives_backticks_in_the_value():
    assert mdtext.code("users") == "`users`"
    # Padded on both sides: CommonMark strips one space from each end only when both ends have one.
    assert mdtext.code("ALTER TABLE `orders` DROP `x`") == "`` ALTER TABLE `orders` DROP `x` ``"
    assert mdtext.code("`quoted`") == "`` `quoted` ``"


def test_code_span_is_one_line():
    assert mdtext.code("SELECT 1\n  FROM t") == "`SELECT 1 FROM t`"


def test_fence_is_longer_than_any_backtick_run_inside():
    block = mdtext.fence("a\n```\nb", "text")
    assert block.startswith("````text\n") and block.endswith("\n````")


def test_sql_block_ends_each_statement_with_a_semicolon():
    assert mdtext.sql(["SELECT 1", "SELECT 2;"]) == "```sql\nSELECT 1;\nSELECT 2;\n```"
    assert "SELECT 1;\n\nSELECT\n  2;" in mdtext.sql(["SELECT 1", "SELECT\n  2"])


def test_text_escapes_markdown_and_html():
    assert mdtext.text("<script>*x*</script> [a](b)") == r"\<script\>\*x\*\</script\> \[a\](b)"


def test_prose_keeps_code_spans_and_escapes_the_rest():
    assert mdtext.prose("column `a*b` is <new>") == r"column `a*b` is \<new\>"
    # An unmatched backtick would swallow the rest of the line into code; it is escaped instead.
    assert mdtext.prose("it's `open") == r"it's \`open"


def test_cell_escapes_pipes_and_newlines():
    assert mdtext.cell("`a|b`\nc") == r"`a\|b` c"
    assert mdtext.cell("") == " "


def test_duration_reads_naturally():
    assert mdtext.duration(0.42) == "0.42 s"
    assert mdtext.duration(12.34) == "12.3 s"
    assert mdtext.duration(125) == "2 min 05 s"
    assert mdtext.duration(None) == "-"


def test_tidy_collapses_blank_lines_outside_code_blocks_only():
    md = "# a\n\n\n\nb   \n```sql\nx  \n\n\ny\n```\n\n\n"
    assert mdtext.tidy(md) == "# a\n\nb\n```sql\nx  \n\n\ny\n```\n"


def test_cut_stays_under_the_limit_and_closes_an_open_block():
    md = "head\n\n```text\n" + "\n".join(f"line {i}" for i in range(1000)) + "\n```\n"
    out = mdtext.cut(md, 300, "_cut_")
    assert len(out) <= 300
    assert out.startswith("head\n")
    assert out.rstrip().endswith("```\n\n_cut_")
