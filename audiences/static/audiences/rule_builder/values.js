/* The rule builder's value inputs, by attribute type and operator shape (docs/rules.md):
 * text, numbers, yes/no, an enum select, a date picker, "in the last N days or months",
 * {"now": ...} offsets and variables.
 *
 *   RuleBuilder.values.editor(node, attr, spec, ctx, changed) -> element
 * ``node`` carries ``value`` or ``var``; ``changed()`` is called after each edit. */
(function (RB) {
  "use strict";
  const h = function () { return RB.h.apply(null, arguments); };
  const UNITS = [["d", "days"], ["w", "weeks"], ["mo", "months"], ["y", "years"], ["h", "hours"], ["min", "minutes"], ["s", "seconds"]];
  const TEMPORAL = ["date", "datetime"];
  const NUMERIC = ["integer", "decimal", "float"];

  function select(options, value, label, onChange) {
    return RB.select(options, value, label, onChange);
  }

  function typed(type, text) {
    if (text === "" || text === null || text === undefined) return null;
    if (type === "integer") return /^-?\d+$/.test(text) ? Number(text) : text;
    if (type === "decimal" || type === "float") return isNaN(Number(text)) ? text : Number(text);
    if (type === "boolean") return text === "true";
    return text;
  }

  function scalarInput(attr, value, label, onChange) {
    const type = attr.type;
    if (type === "boolean") {
      return select([["true", "yes"], ["false", "no"]], value === false ? "false" : "true", label, function (v) { onChange(v === "true"); });
    }
    if (attr.enum && attr.enum.length) {
      const options = [["", "choose…"]].concat(attr.enum.map(function (v) { return [v, v]; }));
      return select(options, value === null ? "" : value, label, function (v) { onChange(typed(type, v)); });
    }
    const kinds = {integer: "number", decimal: "number", float: "number", date: "date", datetime: "datetime-local"};
    const input = h("input", {type: kinds[type] || "text", "aria-label": label, class: "rb-value-input"});
    if (type === "integer") input.step = "1";
    if (type === "decimal" || type === "float") input.step = "any";
    if (type === "datetime" && typeof value === "string") value = value.slice(0, 16);
    input.value = value === null || value === undefined || typeof value === "object" ? "" : String(value);
    input.addEventListener("input", function () { onChange(typed(type, input.value)); });
    return input;
  }

  function amountAndUnit(parsed, label, onChange) {
    const amount = h("input", {type: "number", min: "0", step: "1", class: "rb-amount", "aria-label": label + ": how many"});
    amount.value = parsed ? String(parsed.amount) : "30";
    const unit = select(UNITS, parsed ? parsed.unit : "d", label + ": unit", function () { fire(); });
    function fire() { onChange(Math.max(0, parseInt(amount.value || "0", 10)) + unit.value); }
    amount.addEventListener("input", fire);
    return [amount, unit];
  }

  function duration(node, changed) {
    const parsed = RB.model.parseDuration(node.value);
    return h("span", {class: "rb-duration"}, amountAndUnit(parsed, "In the last", function (text) {
      node.value = text; changed();
    }));
  }

  function nowOffset(node, changed) {
    const parsed = RB.model.parseNow(node.value) || {sign: "-", amount: 30, unit: "d"};
    let sign = parsed.sign, text = parsed.amount + parsed.unit;
    function fire() { node.value = {now: sign + text}; changed(); }
    const parts = amountAndUnit(parsed, "Relative to now", function (t) { text = t; fire(); });
    parts.push(select([["-", "ago"], ["+", "from now"]], sign, "Before or after now", function (v) { sign = v; fire(); }));
    return h("span", {class: "rb-now"}, parts);
  }

  function variableSelect(node, attr, ctx, changed) {
    const names = Object.keys(ctx.variables).filter(function (n) { return ctx.variables[n].type === attr.type || !ctx.variables[n].type; });
    const options = [["", "choose…"]].concat(names.map(function (n) { return [n, n]; }));
    return select(options, node.var || "", "Variable", function (v) { node.var = v; changed(); });
  }

  function sourceOf(node) {
    if (node.var !== undefined) return "var";
    return RB.model.parseNow(node.value) ? "now" : "value";
  }

  function scalar(node, attr, ctx, changed) {
    const choices = [["value", TEMPORAL.indexOf(attr.type) >= 0 ? "the date" : "the value"]];
    if (TEMPORAL.indexOf(attr.type) >= 0) choices.push(["now", "relative to now"]);
    if (Object.keys(ctx.variables).length && ctx.allowVariables) choices.push(["var", "a variable"]);
    const box = h("span", {class: "rb-scalar"});
    function body() {
      const source = sourceOf(node);
      if (source === "var") return variableSelect(node, attr, ctx, changed);
      if (source === "now") return nowOffset(node, changed);
      return scalarInput(attr, node.value, "Value", function (v) { node.value = v; changed(); });
    }
    if (choices.length > 1) {
      box.appendChild(select(choices, sourceOf(node), "Compare with", function (v) {
        delete node.var;
        if (v === "var") { node.var = ""; delete node.value; }
        else node.value = v === "now" ? {now: "-30d"} : null;
        box.replaceChild(body(), box.lastChild);
        changed();
      }));
    }
    box.appendChild(body());
    return box;
  }

  function list(node, attr, changed) {
    const values = Array.isArray(node.value) ? node.value : [];
    if (attr.enum && attr.enum.length) {
      const box = h("span", {class: "rb-choices"});
      attr.enum.forEach(function (v) {
        const box1 = h("input", {type: "checkbox", value: v});
        box1.checked = values.indexOf(v) >= 0;
        box1.addEventListener("change", function () {
          node.value = attr.enum.filter(function (x, i) { return box.querySelectorAll("input")[i].checked; });
          changed();
        });
        box.appendChild(h("label", {class: "rb-choice"}, box1, " " + v));
      });
      return box;
    }
    const input = h("input", {type: "text", class: "rb-value-input rb-list", placeholder: "values, separated by commas", "aria-label": "Values"});
    input.value = values.join(", ");
    input.addEventListener("input", function () {
      node.value = input.value.split(",").map(function (s) { return s.trim(); }).filter(Boolean)
        .map(function (s) { return typed(attr.type, s); });
      changed();
    });
    return input;
  }

  function pair(node, attr, changed) {
    const values = Array.isArray(node.value) && node.value.length === 2 ? node.value.slice() : [null, null];
    node.value = values;
    return h("span", {class: "rb-pair"},
      scalarInput(attr, values[0], "From", function (v) { values[0] = v; changed(); }),
      " and ",
      scalarInput(attr, values[1], "To", function (v) { values[1] = v; changed(); }));
  }

  function editor(node, attr, spec, ctx, changed) {
    if (!spec || !attr) return h("span");
    if (spec.shape === "none") return h("span");
    if (spec.shape === "duration") return duration(node, changed);
    if (spec.shape === "list") return list(node, attr, changed);
    if (spec.shape === "pair") return pair(node, attr, changed);
    return scalar(node, attr, ctx, changed);
  }

  function scalarStart(v, attr) {
    if (Array.isArray(v) || (typeof v === "string" && RB.model.parseDuration(v))) v = null;
    if ((v === null || v === undefined) && attr && attr.type === "boolean") return true;
    return v === undefined ? null : v;
  }

  /* A value fitting a new operator: keeps what still fits, else a sensible start. */
  function reshape(node, spec, attr) {
    const v = node.value;
    if (!spec || spec.shape === "none") { delete node.value; delete node.var; return; }
    if (node.var !== undefined && spec.shape !== "scalar") delete node.var;
    if (spec.shape === "duration") node.value = RB.model.parseDuration(v) ? v : "30d";
    else if (spec.shape === "list") node.value = Array.isArray(v) ? v : v === null || v === undefined ? [] : [v];
    else if (spec.shape === "pair") node.value = Array.isArray(v) && v.length === 2 ? v : [null, null];
    else if (node.var === undefined) node.value = scalarStart(v, attr);
  }

  RB.values = {editor: editor, reshape: reshape, NUMERIC: NUMERIC, TEMPORAL: TEMPORAL, UNITS: UNITS};
})(window.RuleBuilder = window.RuleBuilder || {});
