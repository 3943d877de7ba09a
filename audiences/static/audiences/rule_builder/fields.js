/* The rule builder's fields: the field tree of a schema (GET /api/schemas/{name}/fields/) and
 * the picker that follows many-to-one links as a tree.
 *
 *   RuleBuilder.fields.load(url) -> Promise(tree)        (cached per URL)
 *   RuleBuilder.fields.attribute(ctx, schema, path)      -> {type, enum} | null
 *   RuleBuilder.fields.pick(anchor, ctx, schema, onPick)  opens the picker under ``anchor`` */
(function (RB) {
  "use strict";
  const cache = {};
  const TYPE_WORDS = {
    string: "text", text: "long text", integer: "whole number", decimal: "number",
    float: "number", boolean: "yes / no", date: "date", datetime: "date and time",
  };

  function load(url) {
    if (!cache[url]) {
      cache[url] = fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then(function (response) {
          if (!response.ok) throw new Error("the fields of this schema could not be read (" + response.status + ")");
          return response.json();
        });
      cache[url].catch(function () { delete cache[url]; });
    }
    return cache[url];
  }

  function schemaOf(ctx, name) {
    return (ctx.tree && ctx.tree.schemas[name]) || {attributes: [], links: [], reverse: [], label: name};
  }

  function attribute(ctx, schema, path) {
    if (typeof path !== "string" || !path) return null;
    if (ctx.mode === "condition") {
      if (path === "count") return {type: "integer"};
      const name = path.slice(5);
      return path.indexOf("vars.") === 0 && ctx.variables[name] ? {type: ctx.variables[name].type} : null;
    }
    const parts = path.split(".");
    if (parts[0] === "target" && parts.length === 2 && ctx.targets && ctx.targets[parts[1]]) {
      return {type: ctx.targets[parts[1]]};
    }
    let current = schemaOf(ctx, schema);
    for (let i = 0; i < parts.length - 1; i += 1) {
      const link = current.links.filter(function (l) { return l.name === parts[i]; })[0];
      if (!link) return null;
      current = schemaOf(ctx, link.to);
    }
    return current.attributes.filter(function (a) { return a.name === parts[parts.length - 1]; })[0] || null;
  }

  function entry(label, type, onClick, cls) {
    const item = RB.h("li", {class: cls || "rb-pick-field"});
    const button = RB.h("button", {type: "button", "data-path": label.path}, label.text);
    button.addEventListener("click", onClick);
    item.appendChild(button);
    if (type) item.appendChild(RB.h("span", {class: "rb-type"}, TYPE_WORDS[type] || type));
    return item;
  }

  function level(ctx, schemaName, prefix, depth, onPick) {
    const list = RB.h("ul", {class: "rb-pick-level"});
    const schema = schemaOf(ctx, schemaName);
    schema.attributes.forEach(function (a) {
      const path = prefix + a.name;
      list.appendChild(entry({path: path, text: a.name}, a.type, function () { onPick(path); }));
    });
    schema.links.forEach(function (link) {
      const path = prefix + link.name;
      const item = entry({path: path + ".", text: link.name + " ›"}, null, function () {
        if (item.querySelector("ul")) { item.removeChild(item.querySelector("ul")); return; }
        item.appendChild(level(ctx, link.to, path + ".", depth + 1, onPick));
      }, "rb-pick-link");
      item.appendChild(RB.h("span", {class: "rb-type"}, "its " + schemaOf(ctx, link.to).label));
      list.appendChild(item);
    });
    return list;
  }

  function searchPaths(ctx, schemaName, text) {
    const found = [];
    (function walk(name, prefix, depth) {
      const schema = schemaOf(ctx, name);
      schema.attributes.forEach(function (a) {
        if ((prefix + a.name).toLowerCase().indexOf(text) >= 0) found.push({path: prefix + a.name, type: a.type});
      });
      if (depth < 3) schema.links.forEach(function (l) { walk(l.to, prefix + l.name + ".", depth + 1); });
    })(schemaName, "", 0);
    return found.slice(0, 60);
  }

  function extras(ctx) {
    if (ctx.mode === "condition") {
      const paths = [{path: "count", type: "integer", text: "count (records flowing in)"}];
      Object.keys(ctx.variables).forEach(function (name) {
        paths.push({path: "vars." + name, type: ctx.variables[name].type, text: "vars." + name});
      });
      return paths;
    }
    return Object.keys(ctx.targets || {}).map(function (alias) {
      return {path: "target." + alias, type: ctx.targets[alias], text: "target." + alias};
    });
  }

  let open = null;

  function close() {
    if (open) open.remove();
    open = null;
    document.removeEventListener("mousedown", outside, true);
  }

  function outside(event) {
    if (open && !open.contains(event.target)) close();
  }

  function pick(anchor, ctx, schemaName, onPick) {
    close();
    const done = function (path) { close(); onPick(path); };
    const search = RB.h("input", {type: "search", class: "rb-pick-search", placeholder: "Search fields", "aria-label": "Search fields"});
    const body = RB.h("div", {class: "rb-pick-body"});
    const panel = RB.h("div", {class: "rb-picker", role: "dialog", "aria-label": "Choose a field"}, search, body);
    function fill() {
      body.textContent = "";
      const text = search.value.trim().toLowerCase();
      const more = extras(ctx);
      if (more.length) {
        const title = ctx.mode === "condition" ? "The population and the variables" : "Columns of the population flowing in";
        body.appendChild(RB.h("div", {class: "rb-pick-title"}, title));
        const list = RB.h("ul", {class: "rb-pick-level"});
        more.filter(function (m) { return !text || m.path.indexOf(text) >= 0; }).forEach(function (m) {
          list.appendChild(entry({path: m.path, text: m.text}, m.type, function () { done(m.path); }));
        });
        body.appendChild(list);
      }
      if (ctx.mode === "condition") return;
      body.appendChild(RB.h("div", {class: "rb-pick-title"}, schemaOf(ctx, schemaName).label));
      if (!text) { body.appendChild(level(ctx, schemaName, "", 0, done)); return; }
      const list = RB.h("ul", {class: "rb-pick-level"});
      searchPaths(ctx, schemaName, text).forEach(function (m) {
        list.appendChild(entry({path: m.path, text: m.path}, m.type, function () { done(m.path); }));
      });
      body.appendChild(list);
    }
    search.addEventListener("input", fill);
    panel.addEventListener("keydown", function (event) { if (event.key === "Escape") { close(); anchor.focus(); } });
    fill();
    anchor.parentNode.insertBefore(panel, anchor.nextSibling);
    open = panel;
    setTimeout(function () { document.addEventListener("mousedown", outside, true); search.focus(); }, 0);
  }

  RB.fields = {load: load, attribute: attribute, pick: pick, close: close, schemaOf: schemaOf, TYPE_WORDS: TYPE_WORDS};
})(window.RuleBuilder = window.RuleBuilder || {});
