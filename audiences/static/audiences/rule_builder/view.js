/* The rule builder's view: nodes of RuleBuilder.model drawn as nested blocks (and/or groups with
 * "not", comparisons, "exists" and aggregate blocks over linked records with their own rules,
 * saved audiences), reordered by dragging (SortableJS). Every block carries ``data-path``, the
 * path of the rule language its errors come back with.
 *
 *   RuleBuilder.view.render(root, ctx) -> element
 * ``ctx``: {tree, schema, targets, variables, mode, allowVariables, scope, changed(structural)} */
(function (RB) {
  "use strict";
  const OP_WORDS = {
    eq: "is", ne: "is not", lt: "is less than", lte: "is at most", gt: "is more than", gte: "is at least",
    in: "is one of", not_in: "is none of", between: "is between", contains: "contains",
    not_contains: "does not contain", starts_with: "starts with", ends_with: "ends with",
    is_null: "is empty", is_not_null: "is not empty", in_last: "is in the last", not_in_last: "is not in the last",
  };
  const DATE_WORDS = {lt: "is before", lte: "is on or before", gt: "is after", gte: "is on or after"};
  const AGGREGATE_WORDS = [["count", "the number of"], ["sum", "the total of"], ["avg", "the average of"], ["min", "the lowest"], ["max", "the highest"]];

  function h(tag, attrs) {
    const el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (attrs[key] !== null && attrs[key] !== undefined) el.setAttribute(key, attrs[key]);
    });
    for (let i = 2; i < arguments.length; i += 1) append(el, arguments[i]);
    return el;
  }

  function append(el, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { append(el, c); }); return; }
    el.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
  RB.h = h;

  function button(text, cls, onClick, label) {
    const el = h("button", {type: "button", class: cls, "aria-label": label || null, title: label || null}, text);
    el.addEventListener("click", onClick);
    return el;
  }

  function select(options, value, label, onChange, cls) {
    const el = h("select", {"aria-label": label, class: cls || null});
    options.forEach(function (o) {
      const option = h("option", {value: o[0]}, o[1]);
      if (String(o[0]) === String(value)) option.selected = true;
      el.appendChild(option);
    });
    el.addEventListener("change", function () { onChange(el.value); });
    return el;
  }

  RB.select = select;

  function operatorsFor(type, aggregate) {
    const ops = RB.operators || {};
    return Object.keys(ops).filter(function (op) {
      return ops[op].types.indexOf(type) >= 0 && (!aggregate || RB.aggregateOperators.indexOf(op) >= 0);
    }).map(function (op) {
      const words = RB.values.TEMPORAL.indexOf(type) >= 0 && DATE_WORDS[op] ? DATE_WORDS[op] : OP_WORDS[op] || op;
      return [op, words];
    });
  }

  function opSelect(node, type, aggregate, ctx) {
    const options = operatorsFor(type, aggregate);
    if (options.length && !options.some(function (o) { return o[0] === node.op; })) {
      options.unshift([node.op || "", node.op ? node.op + " (does not apply)" : "choose…"]);
    }
    return select(options, node.op, "Operator", function (op) {
      node.op = op;
      RB.values.reshape(node, RB.operators[op], {type: type});
      ctx.changed(true);
    }, "rb-op");
  }

  function negation(node, ctx) {
    const el = button("not", "rb-not" + (node.neg ? " rb-on" : ""), function () {
      node.neg = !node.neg;
      ctx.changed(true);
    }, node.neg ? "Negated: click to match again" : "Negate: match what this does not");
    el.setAttribute("aria-pressed", node.neg ? "true" : "false");
    return el;
  }

  function frame(node, ctx, path, cls, parts, remove) {
    return h("div", {class: "rb-cond " + cls + (node.neg ? " rb-negated" : ""), "data-path": path},
      h("div", {class: "rb-line"}, h("span", {class: "rb-handle", title: "Drag to reorder", "aria-hidden": "true"}, "⠿"),
        negation(node, ctx), parts, button("×", "rb-remove", remove, "Remove")),
      h("div", {class: "rb-error", "aria-live": "polite"}));
  }

  function fieldButton(node, ctx) {
    const text = node.field ? node.field.split(".").join(" › ") : "choose a field";
    const el = button(text, "rb-field" + (node.field ? "" : " rb-empty"), function () {
      RB.fields.pick(el, ctx, ctx.schema, function (path) {
        const attr = RB.fields.attribute(ctx, ctx.schema, path);
        node.field = path;
        const ops = operatorsFor(attr ? attr.type : "", false).map(function (o) { return o[0]; });
        if (ops.indexOf(node.op) < 0) node.op = ops[0];
        delete node.value; delete node.var;
        RB.values.reshape(node, RB.operators[node.op], attr);
        ctx.changed(true);
      });
    }, "Field");
    el.dataset.field = node.field || "";
    return el;
  }

  function compare(node, ctx, path, remove) {
    const attr = RB.fields.attribute(ctx, ctx.schema, node.field);
    const spec = (RB.operators || {})[node.op];
    const parts = [fieldButton(node, ctx)];
    if (attr) {
      parts.push(opSelect(node, attr.type, false, ctx));
      parts.push(RB.values.editor(node, attr, spec, ctx, function () { ctx.changed(false); }));
    }
    return frame(node, ctx, path, "rb-cmp", parts, remove);
  }

  function linkOptions(ctx, schema, reverseOnly) {
    const info = RB.fields.schemaOf(ctx, schema);
    const options = info.reverse.map(function (r) {
      return [r.name, (reverseOnly ? "its " : "at least one of its ") + r.name.replace(/_/g, " ")];
    });
    if (!reverseOnly) {
      info.links.forEach(function (l) { options.push([l.name, "its " + l.name.replace(/_/g, " ")]); });
    }
    return options;
  }

  function related(ctx, schema, link) {
    const info = RB.fields.schemaOf(ctx, schema);
    const reverse = info.reverse.filter(function (r) { return r.name === link; })[0];
    if (reverse) return reverse.schema;
    const forward = info.links.filter(function (l) { return l.name === link; })[0];
    return forward ? forward.to : null;
  }

  function nested(where, ctx, path, schema, words) {
    if (!schema) return h("div", {class: "rb-nested"});
    const inner = Object.assign({}, ctx, {schema: schema, scope: ctx.root + ":" + schema, nested: true});
    return h("div", {class: "rb-nested"}, h("div", {class: "rb-nested-title"}, words), group(where, inner, path + ".where", null));
  }

  function exists(node, ctx, path, remove) {
    const options = linkOptions(ctx, ctx.schema, false);
    const link = select(options, node.link, "Linked records", function (v) {
      node.link = v; node.where = RB.model.group("and", [], true); ctx.changed(true);
    }, "rb-link");
    const block = frame(node, ctx, path, "rb-exists", [h("span", {class: "rb-words"}, "has"), link], remove);
    block.appendChild(nested(node.where, ctx, RB.model.innerPath(path, node), related(ctx, ctx.schema, node.link), "matching all of:"));
    return block;
  }

  function aggregateType(ctx, node, schema) {
    if (node.func === "count") return "integer";
    const attr = RB.fields.attribute(ctx, schema, node.field);
    if (!attr) return null;
    return node.func === "avg" ? (attr.type === "decimal" ? "decimal" : "float") : attr.type;
  }

  function aggregate(node, ctx, path, remove) {
    const child = related(ctx, ctx.schema, node.link);
    const parts = [select(AGGREGATE_WORDS, node.func, "Aggregate", function (v) {
      node.func = v; ctx.changed(true);
    }, "rb-func")];
    parts.push(select(linkOptions(ctx, ctx.schema, true), node.link, "Linked records", function (v) {
      node.link = v; node.field = ""; node.where = RB.model.group("and", [], true); ctx.changed(true);
    }, "rb-link"));
    if (node.func !== "count" && child) {
      const numeric = node.func === "sum" || node.func === "avg";
      const fields = RB.fields.schemaOf(ctx, child).attributes.filter(function (a) {
        return !numeric || RB.values.NUMERIC.indexOf(a.type) >= 0;
      }).map(function (a) { return [a.name, a.name]; });
      if (!node.field && fields.length) node.field = fields[0][0];
      parts.push(select(fields, node.field, "Field of the linked records", function (v) { node.field = v; ctx.changed(true); }, "rb-agg-field"));
    }
    const type = aggregateType(ctx, node, child);
    if (type) {
      parts.push(opSelect(node, type, true, ctx));
      parts.push(RB.values.editor(node, {type: type}, RB.operators[node.op], ctx, function () { ctx.changed(false); }));
    }
    const block = frame(node, ctx, path, "rb-agg", parts, remove);
    block.appendChild(nested(node.where, ctx, RB.model.innerPath(path, node), child, "counting only those matching all of:"));
    return block;
  }

  function audience(node, ctx, path, remove) {
    const names = (ctx.tree && ctx.tree.audiences) || [];
    const options = [["", "choose…"]].concat(names.map(function (n) { return [n, n]; }));
    const pick = select(options, node.name || "", "Saved audience", function (v) { node.name = v; ctx.changed(true); }, "rb-audience");
    return frame(node, ctx, path, "rb-aud", [h("span", {class: "rb-words"}, "is in the saved audience"), pick], remove);
  }

  function condition(node, ctx, path, remove) {
    const draw = {cmp: compare, exists: exists, agg: aggregate, aud: audience, group: group}[node.t];
    return draw(node, ctx, path, remove);
  }

  function starter(kind, ctx) {
    const info = RB.fields.schemaOf(ctx, ctx.schema);
    if (kind === "cmp") return {t: "cmp", field: "", op: "", neg: false};
    if (kind === "group") return RB.model.group(ctx.op === "and" ? "or" : "and", [], false);
    if (kind === "exists") {
      const first = info.reverse[0] || info.links[0];
      return {t: "exists", link: first ? first.name : "", where: RB.model.group("and", [], true), neg: false};
    }
    if (kind === "agg") {
      return {t: "agg", func: "count", link: info.reverse[0] ? info.reverse[0].name : "", field: "",
        where: RB.model.group("and", [], true), op: "gte", value: 1, neg: false};
    }
    return {t: "aud", name: "", neg: false};
  }

  function adders(node, ctx) {
    const info = RB.fields.schemaOf(ctx, ctx.schema);
    const add = function (kind) {
      return function () {
        node.children.push(starter(kind, Object.assign({}, ctx, {op: node.op})));
        if (node.children.length > 1) node.wrapped = false;
        ctx.changed(true);
      };
    };
    const bar = h("div", {class: "rb-add"}, button("+ Condition", "rb-add-cmp", add("cmp")), button("+ Group", "rb-add-group", add("group")));
    if (ctx.mode === "condition") return bar;
    if (info.reverse.length || info.links.length) bar.appendChild(button("+ Linked records exist", "rb-add-exists", add("exists")));
    if (info.reverse.length) bar.appendChild(button("+ Count, total…", "rb-add-agg", add("agg")));
    if (ctx.tree && ctx.tree.audiences && ctx.tree.audiences.length && ctx.schema === ctx.tree.schema) {
      bar.appendChild(button("+ In audience", "rb-add-aud", add("aud")));
    }
    return bar;
  }

  function group(node, ctx, path, remove) {
    const own = Object.assign({}, ctx, {op: node.op});
    const list = h("div", {class: "rb-children", "data-scope": ctx.scope});
    list._rbNode = node;
    node.children.forEach(function (child, index) {
      list.appendChild(condition(child, own, RB.model.childPath(path, node, index), function () {
        node.children.splice(index, 1);
        ctx.changed(true);
      }));
    });
    if (!node.children.length) list.appendChild(h("div", {class: "rb-empty-group"}, remove || ctx.nested ? "No condition: every record." : "No condition yet: every record matches."));
    const words = select([["and", "all"], ["or", "any"]], node.op, "All or any", function (v) { node.op = v; node.wrapped = false; ctx.changed(true); }, "rb-combinator");
    const head = [words, h("span", {class: "rb-words"}, " of these conditions")];
    let block;
    if (remove) {
      block = frame(node, ctx, path, "rb-group", head, remove);
    } else {
      const cls = ctx.nested ? "rb-group rb-where" : "rb-group rb-top";
      block = h("div", {class: cls + (node.neg ? " rb-negated" : ""), "data-path": path},
        h("div", {class: "rb-line"}, negation(node, ctx), h("span", {class: "rb-words"}, ctx.nested ? "" : "Match "), head),
        h("div", {class: "rb-error", "aria-live": "polite"}));
    }
    block.appendChild(list);
    block.appendChild(adders(node, own));
    sortable(list, ctx);
    return block;
  }

  function sortable(list, ctx) {
    if (!window.Sortable) return;
    window.Sortable.create(list, {
      group: ctx.scope, handle: ".rb-handle", draggable: ".rb-cond", animation: 120,
      fallbackOnBody: true, swapThreshold: 0.6, forceFallback: true,
      onEnd: function (event) {
        const from = event.from._rbNode, to = event.to._rbNode;
        if (!from || !to || (from === to && event.oldIndex === event.newIndex)) return;
        const moved = from.children.splice(event.oldIndex, 1)[0];
        to.children.splice(event.newIndex, 0, moved);
        if (to.children.length > 1) to.wrapped = false;
        ctx.changed(true);
      },
    });
  }

  function render(root, ctx) {
    return group(root, Object.assign({}, ctx, {scope: ctx.root + ":" + ctx.schema}), ctx.path || "where", null);
  }

  RB.view = {render: render, OP_WORDS: OP_WORDS};
})(window.RuleBuilder = window.RuleBuilder || {});
