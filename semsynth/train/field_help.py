"""The help text of a config dataclass's fields, for `semsynth train TASK --help` and for configs built from
other configs (sis.Config from spade.Config and usis.Config)."""
from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import io
import textwrap
import tokenize


@functools.cache
def field_help(cls) -> dict[str, str]:
    """field name -> help text of the dataclass `cls`, its base classes' fields included: a field's
    `field(metadata={"help": ...})` when it has one, else the trailing `# comment` of the line that defines it
    (the house convention for config dataclasses). Read once per class, through the tokenizer, so a `#` inside a
    string default is not taken for a comment."""
    found = {}
    for klass in reversed(cls.__mro__):  # bases first: a subclass that redefines a field wins
        if dataclasses.is_dataclass(klass):
            found.update(_trailing_comments(klass))
    found.update({f.name: f.metadata["help"] for f in dataclasses.fields(cls) if "help" in f.metadata})
    return found


def _trailing_comments(klass) -> dict[str, str]:
    """name -> comment on the last line of each annotated assignment in the body of `klass` ({} without source)."""
    try:
        source = textwrap.dedent(inspect.getsource(klass))
    except (OSError, TypeError):
        return {}
    body = ast.parse(source).body[0].body
    last_line = {node.target.id: node.end_lineno for node in body
                 if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)}
    comments = {tok.start[0]: tok.string.lstrip("#").strip()
                for tok in tokenize.generate_tokens(io.StringIO(source).readline) if tok.type == tokenize.COMMENT}
    return {name: comments[line] for name, line in last_line.items() if line in comments}
