"""Personalization (design 5.5): message templates compiled once per delivery, checked on save,
rendered per recipient in the bounded sandbox (``channels.sandbox``).

The context of every template: ``profile`` (the targeting record's attributes, many-to-one links
as nested dicts: ``profile.store.city``), ``target`` (the population's added columns by alias),
``vars`` (the run's variables), ``campaign`` (``id``, ``name``), ``message`` (``unsubscribe_url``,
``view_url``: ``channels.links``). Plain dicts and values only, never model instances, so no
template can issue a query. A missing value renders empty (``ChainableUndefined``), or through
``default``.

- ``PARTS[channel]``: the templated parts, each ``text`` or ``html`` (autoescaped, and only it),
  or ``json`` (push ``data``: an object whose string values are templates).
- ``check(source, *, path, schema=None, targets=None, variables=None) -> [{"path", "message"}]``:
  syntax errors and unknown top-level names, with their line; ``vars.X`` not declared,
  ``target.X`` not a column of the inbound population (when known), ``profile.X`` not an
  attribute or link of the schema (when known).
- ``Templates(channel, content)``: the compiled parts; ``render(context) -> dict`` of rendered
  parts (``RenderError`` for that recipient); ``profile_links`` and ``uses_target`` say what the
  sender must load per chunk.
"""

from jinja2 import TemplateSyntaxError, meta, nodes

from channels import content as shaping
from channels.sandbox import Environment, RenderError, render

NAMES = ("profile", "target", "vars", "campaign", "message")
PARTS = {
    "email": {"subject": "text", "html": "html", "text": "text"},
    "sms": {"text": "text"},
    "push": {"title": "text", "body": "text", "deep_link": "text", "data": "json"},
}
text_env = Environment(autoescape=False)
html_env = Environment(autoescape=True)


def _chains(ast, root):
    """``(names, lineno)`` of every attribute chain starting at variable ``root``."""
    for node in ast.find_all(nodes.Getattr):
        names, inner = [], node
        while isinstance(inner, nodes.Getattr):
            names.insert(0, inner.attr)
            inner = inner.node
        if isinstance(inner, nodes.Name) and inner.name == root:
            yield names, node.lineno


def _first_line(ast, name):
    return min((n.lineno for n in ast.find_all(nodes.Name) if n.name == name), default=1)


def _schema_path_error(schema_name, names):
    """Why ``profile.<names>`` is not a path of the schema (None when it is)."""
    from audiences.models import Schema

    schema = (
        Schema.objects.filter(name=schema_name).prefetch_related("attributes", "links__to").first()
    )
    for index, name in enumerate(names):
        if schema is None:
            return None
        links = {link.name: link for link in schema.links.all()}
        if name in links:
            schema = links[name].to
            continue
        if name in {a.name for a in schema.attributes.all()}:
            return None if index == len(names) - 1 else f"{name} is not a link"
        return f"{schema.name} has no attribute or link {name!r}"
    return None


def _unknown_names(ast):
    for name in sorted(meta.find_undeclared_variables(ast) - set(NAMES) - set(text_env.globals)):
        line = _first_line(ast, name)
        yield f"line {line}: unknown name {name!r} (use profile, target, vars, campaign or message)"


def _unknown_members(ast, root, known, words):
    if known is None:
        return
    for names, line in _chains(ast, root):
        if names[0] not in known:
            yield f"line {line}: {words} {names[0]!r}"


def _unknown_paths(ast, schema):
    if not schema:
        return
    for names, line in _chains(ast, "profile"):
        problem = _schema_path_error(schema, names)
        if problem:
            yield f"line {line}: {problem}"


def _name_errors(ast, path, schema, targets, variables):
    errors = [
        *_unknown_names(ast),
        *_unknown_members(ast, "vars", variables, "no declared variable"),
        *_unknown_members(ast, "target", targets, "the population has no column"),
        *_unknown_paths(ast, schema),
    ]
    return [{"path": path, "message": m} for m in dict.fromkeys(errors)]


def check(source, *, path, schema=None, targets=None, variables=None) -> list[dict]:
    if not isinstance(source, str):
        return []
    try:
        ast = text_env.parse(source)
    except TemplateSyntaxError as exc:
        return [{"path": path, "message": f"line {exc.lineno}: {exc.message}"}]
    return _name_errors(ast, path, schema, targets, variables)


def check_json(value, *, path, **known) -> list[dict]:
    """``check`` for every string of a JSON value (push ``data``)."""
    if isinstance(value, str):
        return check(value, path=path, **known)
    if isinstance(value, dict):
        return [e for k, v in value.items() for e in check_json(v, path=f"{path}.{k}", **known)]
    if isinstance(value, list):
        return [e for i, v in enumerate(value) for e in check_json(v, path=f"{path}[{i}]", **known)]
    return []


def _compile_json(value):
    if isinstance(value, str):
        return text_env.from_string(value)
    if isinstance(value, dict):
        return {k: _compile_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_compile_json(v) for v in value]
    return value


def _render_json(compiled, context):
    if isinstance(compiled, dict):
        return {k: _render_json(v, context) for k, v in compiled.items()}
    if isinstance(compiled, list):
        return [_render_json(v, context) for v in compiled]
    if hasattr(compiled, "generate"):
        return render(compiled, context)
    return compiled


class Templates:
    """The compiled templates of one delivery (``content``: the activity's message options)."""

    def __init__(self, channel: str, content: dict):
        self.channel = channel
        self.content = content
        self.compiled, sources = {}, []
        for part, kind in PARTS[channel].items():
            value = content.get(part)
            if kind == "json":
                self.compiled[part] = _compile_json(value or {})
                continue
            if not value:
                continue
            env = html_env if kind == "html" else text_env
            self.compiled[part] = env.from_string(value)
            sources.append(value)
        self._text_from_html(content, sources)
        asts = [text_env.parse(s) for s in sources] + self._json_asts(content)
        self.profile_links = sorted(
            {
                "__".join(names[:-1])
                for ast in asts
                for names, _ in _chains(ast, "profile")
                if len(names) > 1
            }
        )
        names = set().union(*(meta.find_undeclared_variables(a) for a in asts)) if asts else set()
        self.uses_target = "target" in names
        self.uses_message = "message" in names

    def _text_from_html(self, content, sources):
        """An email without text gets one made from its HTML, once, as a text template (the
        Jinja tags of the HTML's text and links survive the conversion); when that does not
        compile, each rendered HTML is converted instead."""
        self.text_per_message = False
        if self.channel != "email" or content.get("text") or not content.get("html"):
            return
        source = shaping.html_to_text(content["html"])
        try:
            self.compiled["text"] = text_env.from_string(source)
            sources.append(source)
        except TemplateSyntaxError:
            self.text_per_message = True

    def _json_asts(self, content):
        found = []

        def walk(value):
            if isinstance(value, str):
                found.append(text_env.parse(value))
            elif isinstance(value, dict):
                for v in value.values():
                    walk(v)
            elif isinstance(value, list):
                for v in value:
                    walk(v)

        for part, kind in PARTS[self.channel].items():
            if kind == "json":
                walk(content.get(part) or {})
        return found

    def render(self, context: dict) -> dict:
        """The rendered parts for one recipient; raises ``RenderError``."""
        out = {}
        for part, compiled in self.compiled.items():
            kind = PARTS[self.channel][part]
            out[part] = (
                _render_json(compiled, context) if kind == "json" else render(compiled, context)
            )
        if self.channel == "email":
            out["subject"] = shaping.one_line(out.get("subject", ""))
            html = out.get("html", "")
            if html:
                out["html"] = shaping.inline_css(html)
            if self.text_per_message:
                out["text"] = shaping.html_to_text(html)
        if self.channel == "push":
            out["title"] = shaping.one_line(out.get("title", ""))
        return out


__all__ = ["PARTS", "RenderError", "Templates", "check", "check_json"]
