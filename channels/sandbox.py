"""A bounded Jinja2 sandbox for message templates (design 5.5).

``Environment`` is Jinja2's ``ImmutableSandboxedEnvironment`` (no attribute of Python internals,
no mutation of lists and dicts) with ``ChainableUndefined`` (a missing value, or an attribute of
one, renders empty; ``default`` works) and bounds, so one template can never hurt the worker:

- **size**: no string or list built while rendering may exceed ``RENDER_MAX_CHARS`` characters,
  checked BEFORE building it where one operation can multiply sizes (``*``, ``%`` and ``format``
  widths, ``center``/``indent``/``wordwrap``/``replace``/``join`` and their str methods,
  concatenation ``~``) and after every call (macros, methods); the output is cut off there too;
- **work**: every loop iteration of ``range`` and every call or attribute access is a step; more
  than ``RENDER_MAX_STEPS`` steps, or longer than ``RENDER_MAX_SECONDS``, stops the render;
- ``lipsum`` is gone; ``range`` keeps Jinja's 100,000 items cap.

Breaking a bound raises ``RenderLimit`` (a ``RenderError``): the sender fails THAT message with
the error's words; nothing else is affected. ``render(template, context)`` applies the bounds.
"""

import contextvars
import re
import time

from django.conf import settings
from jinja2 import ChainableUndefined
from jinja2.compiler import CodeGenerator
from jinja2.sandbox import ImmutableSandboxedEnvironment, safe_range
from jinja2.utils import Namespace

WIDTH = re.compile(r"[%{:]\D{0,6}?(\d{6,})")
GROWERS = {"center", "ljust", "rjust", "zfill", "expandtabs", "replace", "join", "format"}


class RenderError(Exception):
    """A message that cannot be rendered: the words say why (recorded on the message)."""


class RenderLimit(RenderError):
    pass


class _Budget:
    def __init__(self):
        self.steps = 0
        self.max_steps = settings.RENDER_MAX_STEPS
        self.max_chars = settings.RENDER_MAX_CHARS
        self.deadline = time.monotonic() + settings.RENDER_MAX_SECONDS


_budget: contextvars.ContextVar = contextvars.ContextVar("render_budget", default=None)


def max_chars() -> int:
    budget = _budget.get()
    return budget.max_chars if budget else settings.RENDER_MAX_CHARS


def step(n: int = 1) -> None:
    budget = _budget.get()
    if budget is None:
        return
    budget.steps += n
    if budget.steps > budget.max_steps:
        raise RenderLimit(
            f"the template did more than {budget.max_steps:,} steps (a loop too long?)"
        )
    if budget.steps % 512 == 0 and time.monotonic() > budget.deadline:
        raise RenderLimit(f"rendering took more than {settings.RENDER_MAX_SECONDS:g} s")


def weight(value, depth=0) -> int:
    """About how many characters ``value`` stands for (strings and lists of them)."""
    if isinstance(value, str | bytes):
        return len(value)
    if isinstance(value, list | tuple) and depth < 3:
        return sum(weight(v, depth + 1) for v in value) + len(value)
    if isinstance(value, dict) and depth < 3:
        return sum(weight(k, depth + 1) + weight(v, depth + 1) for k, v in value.items())
    return 8


def check_size(size: int, what="the text") -> None:
    limit = max_chars()
    if size > limit:
        raise RenderLimit(f"{what} would exceed {limit:,} characters")


def _check_widths(text) -> None:
    if isinstance(text, str) and WIDTH.search(text):
        raise RenderLimit("a format width of 100,000 or more is not allowed")


class CountingRange:
    """``range`` whose iterations are steps."""

    def __init__(self, *args):
        self.inner = safe_range(*args)

    def __iter__(self):
        for value in self.inner:
            step()
            yield value

    def __len__(self):
        return len(self.inner)

    def __getitem__(self, index):
        return self.inner[index]


class BoundedNamespace(Namespace):
    def __setitem__(self, name, value):
        check_size(weight(value))
        super().__setitem__(name, value)


class BoundedCodeGenerator(CodeGenerator):
    """Concatenation (``~``) checks the size of its parts before joining them."""

    def visit_Concat(self, node, frame):
        if frame.eval_ctx.volatile:
            func_name = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            func_name = "markup_join"
        else:
            func_name = "str_join"
        self.write(f"{func_name}(environment.checked_parts((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write(")))")


def _grow_check(name, obj, args, kwargs):
    """Refuse a str method call that would build a string over the limit."""
    if name in ("center", "ljust", "rjust", "zfill") and args:
        check_size(int(args[0]) if isinstance(args[0], int) else 0)
    elif name == "expandtabs":
        size = obj.count("\t") * int(args[0] if args else kwargs.get("tabsize", 8))
        check_size(size + len(obj))
    elif name == "replace" and len(args) >= 2:
        check_size(len(obj) + obj.count(args[0] or "") * weight(args[1]) + weight(args[1]))
    elif name == "join" and args and hasattr(args[0], "__len__"):
        check_size(weight(list(args[0])) + len(obj) * len(args[0]))
    elif name == "format":
        _check_widths(obj)


def _bounded_filter(name, original):
    def bounded(value, *args, **kwargs):
        if name == "center":
            check_size(int(args[0] if args else kwargs.get("width", 80)) + weight(value))
        elif name == "indent":
            width = args[0] if args else kwargs.get("width", 4)
            lines = str(value).count("\n") + 1
            check_size(
                weight(value) + lines * (width if isinstance(width, int) else len(str(width)))
            )
        elif name == "wordwrap":
            check_size(weight(value) * 2)
        elif name == "replace" and len(args) >= 2:
            text = str(value)
            check_size(
                len(text) + text.count(str(args[0]) or "") * weight(args[1]) + weight(args[1])
            )
        elif name == "join":
            items = list(value)
            check_size(weight(items) + weight(args[0] if args else "") * len(items))
            value = items
        elif name == "format":
            _check_widths(value)
        result = original(value, *args, **kwargs)
        check_size(weight(result))
        return result

    bounded.__name__ = original.__name__
    for attr in ("jinja_pass_arg",):
        if hasattr(original, attr):
            setattr(bounded, attr, getattr(original, attr))
    return bounded


class Environment(ImmutableSandboxedEnvironment):
    code_generator_class = BoundedCodeGenerator
    intercepted_binops = frozenset({"*", "%", "**"})

    def __init__(self, **kwargs):
        super().__init__(undefined=ChainableUndefined, **kwargs)
        self.globals.pop("lipsum", None)
        self.globals["range"] = CountingRange
        self.globals["namespace"] = BoundedNamespace
        for name in ("center", "indent", "wordwrap", "replace", "join", "format"):
            self.filters[name] = _bounded_filter(name, self.filters[name])
        self.policies["json.dumps_kwargs"] = {"sort_keys": True, "default": str}

    def checked_parts(self, parts):
        check_size(sum(weight(p) for p in parts))
        return parts

    def call_binop(self, context, operator, left, right):
        step()
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(times, int):
                    check_size(weight(seq) * max(times, 0))
        elif operator == "%":
            _check_widths(left)
        elif operator == "**" and isinstance(left, int) and isinstance(right, int):
            if abs(left) > 1 and right * max(abs(left).bit_length(), 1) > 100_000:
                raise RenderLimit("the number would be too large")
        return super().call_binop(context, operator, left, right)

    def getattr(self, obj, attribute):
        step()
        return super().getattr(obj, attribute)

    def getitem(self, obj, argument):
        step()
        return super().getitem(obj, argument)

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - Jinja's own signature
        step()
        owner = getattr(__obj, "__self__", None)
        name = getattr(__obj, "__name__", "")
        if isinstance(owner, str) and name in GROWERS:
            _grow_check(name, owner, args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        check_size(weight(result))
        return result


def render(template, context: dict) -> str:
    """Render within the bounds; ``RenderError`` (with the reason) instead of any failure."""
    token = _budget.set(_Budget())
    try:
        parts, size = [], 0
        limit = max_chars()
        for piece in template.generate(context):
            size += len(piece)
            if size > limit:
                raise RenderLimit(f"the text would exceed {limit:,} characters")
            parts.append(piece)
        return "".join(parts)
    except RenderError:
        raise
    except RecursionError:
        raise RenderError("the template calls itself too deeply") from None
    except MemoryError:
        raise RenderLimit("the template needs too much memory") from None
    except Exception as exc:  # a template error is that message's error, never the worker's
        raise RenderError(f"{type(exc).__name__}: {exc}") from None
    finally:
        _budget.reset(token)
