"""Jinja filters that write an answer into a generated file as data, whatever characters it holds.

cookiecutter loads this module from the template's folder (`_extensions` in cookiecutter.json); it is
not copied into the project. Free-text answers must land intact: never code, never markup.
"""

import json
import re

from cookiecutter.utils import simple_filter


@simple_filter
def toml_string(value):
    """A TOML basic string holding exactly `value`: JSON's escaping is TOML's (\\", \\\\, \\n, \\uXXXX),
    except that TOML also wants DEL escaped and has no surrogate escapes (so non-ASCII stays as UTF-8)."""
    return json.dumps(str(value), ensure_ascii=False).replace("\x7f", "\\u007f")


# Characters that start Markdown markup anywhere in a line (emphasis, code, links, images, HTML, entities,
# GFM tables and strikethrough, headings), and what starts a block at the start of a line (lists, quotes,
# setext underlines, thematic breaks, ordered lists like "1." or "1)"). CommonMark lets a backslash
# escape any ASCII punctuation character, so escaping these is always safe.
INLINE_MARKUP = re.compile(r"([\\`*_\[\]<>&!|~#])")
LINE_START_MARKUP = re.compile(r"^([-+=]|\d+(?=[.)]))")


@simple_filter
def markdown_text(value):
    """`value` as literal Markdown text on a line of its own: markup characters backslash-escaped, so
    `*`, `_`, `<tag>`, `[link](x)`, backticks or a leading `- ` show as typed instead of becoming markup."""
    escaped = INLINE_MARKUP.sub(r"\\\1", str(value))
    # "1." and "1)" need the escape after the number; "-", "+" and "=" before themselves
    return LINE_START_MARKUP.sub(lambda m: m[0] + "\\" if m[0][0].isdigit() else "\\" + m[0], escaped)
