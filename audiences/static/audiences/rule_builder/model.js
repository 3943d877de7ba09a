/* The rule builder's model: rules of the rule language (docs/rules.md) read into nodes the builder
 * edits, and written back. No DOM here.
 *
 *   RuleBuilder.model.read(doc, path) -> {node, errors: [{path, message}]}
 *   RuleBuilder.model.write(node)     -> the rule's JSON
 *
 * Nodes: {t: "group", op: "and"|"or", children, wrapped}, {t: "cmp", field, op, value | var},
 * {t: "exists", link, where}, {t: "agg", func, link, field, where, op, value | var},
 * {t: "aud", name}; any node may carry neg: true ({"not": ...}). A group read from a single
 * condition (``wrapped``) is written back as that condition while it holds one child, so what
 * the user typed comes back unchanged. */
(function (RB) {
  "use strict";
  const DURATION = /^(\d+)(s|min|h|d|w|mo|y)$/;
  const NOW = /^([+-])(\d+)(s|min|h|d|w|mo|y)$/;

  function group(op, children, wrapped) {
    return {t: "group", op: op || "and", children: children || [], wrapped: !!wrapped, neg: false};
  }

  function isObject(doc) {
    return doc !== null && typeof doc === "object" && !Array.isArray(doc);
  }

  function read(doc, path) {
    const errors = [];
    const node = readCond(doc, path || "where", errors);
    return {node: node && node.t === "group" ? node : group("and", node ? [node] : [], true), errors: errors};
  }

  function readCond(doc, path, errors) {
    if (!isObject(doc)) {
      errors.push({path: path, message: "a condition is an object"});
      return null;
    }
    if ("and" in doc || "or" in doc) return readGroup(doc, path, errors);
    if ("not" in doc) {
      let inner = readCond(doc.not, path + ".not", errors);
      if (!inner) return null;
      if (inner.neg) inner = group("and", [inner], true);
      inner.neg = true;
      return inner;
    }
    if ("exists" in doc) return readExists(doc, path, errors);
    if ("aggregate" in doc) return readAggregate(doc, path, errors);
    if ("in_audience" in doc) return {t: "aud", name: doc.in_audience, neg: false};
    if ("field" in doc) return readCompare(doc, path, errors);
    errors.push({path: path, message: "unknown condition: expected and, or, not, field, exists, aggregate or in_audience"});
    return null;
  }

  function readGroup(doc, path, errors) {
    const op = "and" in doc ? "and" : "or";
    const items = doc[op];
    if (!Array.isArray(items)) {
      errors.push({path: path + "." + op, message: "a list of conditions"});
      return null;
    }
    const children = items.map(function (item, i) {
      return readCond(item, path + "." + op + "[" + i + "]", errors);
    }).filter(Boolean);
    return group(op, children, false);
  }

  function readWhere(doc, path, errors) {
    if (!("where" in doc)) return group("and", [], true);
    const inner = readCond(doc.where, path + ".where", errors);
    if (!inner) return group("and", [], true);
    return inner.t === "group" && !inner.neg ? inner : group("and", [inner], true);
  }

  function readExists(doc, path, errors) {
    if (typeof doc.exists !== "string") errors.push({path: path + ".exists", message: "a link name"});
    return {t: "exists", link: doc.exists, where: readWhere(doc, path, errors), neg: false};
  }

  function readOperand(node, doc) {
    if ("var" in doc) node.var = doc.var;
    else if ("value" in doc) node.value = doc.value;
    return node;
  }

  function readAggregate(doc, path, errors) {
    if (["count", "sum", "avg", "min", "max"].indexOf(doc.aggregate) < 0) {
      errors.push({path: path + ".aggregate", message: "one of count, sum, avg, min, max"});
    }
    checkOp(doc, path, errors, true);
    const node = {t: "agg", func: doc.aggregate, link: doc.link, field: doc.field || "",
      where: readWhere(doc, path, errors), op: doc.op, neg: false};
    return readOperand(node, doc);
  }

  function readCompare(doc, path, errors) {
    if (typeof doc.field !== "string" || !doc.field) {
      errors.push({path: path + ".field", message: 'a field path such as "country" or "store.city"'});
    }
    checkOp(doc, path, errors, false);
    return readOperand({t: "cmp", field: doc.field, op: doc.op, neg: false}, doc);
  }

  function checkOp(doc, path, errors, aggregate) {
    const ops = RB.operators || {};
    const known = aggregate ? (RB.aggregateOperators || []).indexOf(doc.op) >= 0 : doc.op in ops;
    if (!known && Object.keys(ops).length) {
      errors.push({path: path + ".op", message: "unknown operator " + JSON.stringify(doc.op)});
      return;
    }
    const spec = ops[doc.op];
    if (spec && spec.shape !== "none" && !("value" in doc) && !("var" in doc)) {
      errors.push({path: path + ".value", message: doc.op + " needs a value"});
    }
  }

  function negate(json, node) {
    return node.neg ? {not: json} : json;
  }

  function operand(json, node) {
    const spec = (RB.operators || {})[node.op];
    if (spec && spec.shape === "none") return json;
    if (node.var !== undefined) json.var = node.var;
    else json.value = node.value === undefined ? null : node.value;
    return json;
  }

  function writeWhere(json, where) {
    if (where && (where.children.length || where.neg)) json.where = write(where);
    return json;
  }

  function write(node) {
    if (node.t === "group") {
      const children = node.children.map(write);
      if (node.wrapped && children.length === 1 && !node.neg) return children[0];
      const json = {};
      json[node.op] = children;
      return negate(json, node);
    }
    if (node.t === "cmp") return negate(operand({field: node.field, op: node.op}, node), node);
    if (node.t === "exists") return negate(writeWhere({exists: node.link}, node.where), node);
    if (node.t === "aud") return negate({in_audience: node.name}, node);
    const json = {aggregate: node.func, link: node.link};
    if (node.func !== "count") json.field = node.field;
    writeWhere(json, node.where);
    json.op = node.op;
    return negate(operand(json, node), node);
  }

  /* Paths of the rule language for error messages: the node's own path, and its children's. */
  function childPath(parentPath, parent, index) {
    const own = parent.neg ? parentPath + ".not" : parentPath;
    if (parent.wrapped && parent.children.length === 1 && !parent.neg) return parentPath;
    return own + "." + parent.op + "[" + index + "]";
  }

  function innerPath(path, node) {
    return node.neg ? path + ".not" : path;
  }

  function parseDuration(text) {
    const match = DURATION.exec(text || "");
    return match ? {amount: Number(match[1]), unit: match[2]} : null;
  }

  function parseNow(value) {
    if (!isObject(value) || typeof value.now !== "string") return null;
    const match = NOW.exec(value.now);
    return match ? {sign: match[1], amount: Number(match[2]), unit: match[3]} : null;
  }

  RB.model = {
    read: read, write: write, group: group, childPath: childPath, innerPath: innerPath,
    parseDuration: parseDuration, parseNow: parseNow,
  };
})(window.RuleBuilder = window.RuleBuilder || {});
