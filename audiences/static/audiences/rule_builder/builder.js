/* The rule builder (design 12, docs/rules.md#the-rule-builder): a visual editor of a rule kept in
 * sync with a textarea holding its JSON, with a live count and a preview of the rows.
 *
 *   const builder = RuleBuilder.attach(textarea, {
 *     schema: "customer",            // or a function returning the schema's name (null: none yet)
 *     fieldsUrl: "/api/schemas/{schema}/fields/",
 *     targets: {total: "decimal"},   // columns of the population flowing in (target.ALIAS), or null
 *     variables: {country: {type: "string", default: "FR"}},  // declared variables, or null
 *     mode: "rule",                  // or "condition" (a test activity's: count, vars.NAME)
 *     live: true,                    // count as you edit (POST /api/audiences/count/)
 *     preview: true,                 // offer the first rows (POST /api/audiences/preview/)
 *     onChange: function (rule) {},  // after every valid change
 *   });
 *   builder.rule() / builder.setRule(rule) / builder.refresh() / builder.showJSON(bool)
 *   builder.setSchema(name) / builder.setTargets(targets) / builder.setVariables(vars)
 *   builder.destroy()
 *
 * The textarea stays the form's field: the builder writes the JSON into it (and fires "input"
 * and "change" on it); edits of the JSON rebuild the blocks, or show their error at its path.
 * Textareas with class ``rule-editor`` / ``condition-editor`` or ``data-rule-builder`` are
 * enhanced on page load from their data attributes (see ``fromDataset``). */
(function (RB) {
  "use strict";
  const h = function () { return RB.h.apply(null, arguments); };
  let counter = 0;

  function csrf() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    const match = /(?:^|;\s*)csrftoken=([^;]+)/.exec(document.cookie);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf(), Accept: "application/json"},
      body: JSON.stringify(body),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        return {ok: response.ok, status: response.status, answer: answer};
      });
    });
  }

  function jsonErrorPlace(text, error) {
    const match = /position (\d+)/.exec(error.message);
    const lines = /line (\d+) column (\d+)/.exec(error.message);
    const what = error.message.replace(/^JSON\.parse: /, "").split(/ in JSON| at position|\s*\(line/)[0];
    if (lines) return "line " + lines[1] + ", column " + lines[2] + ": " + what;
    const end = /end of/.test(error.message) ? text.length : null;
    if (!match && end === null) return error.message;
    const before = text.slice(0, match ? Number(match[1]) : end).split("\n");
    return "line " + before.length + ", column " + (before[before.length - 1].length + 1) + ": " + what;
  }

  function usesTargets(rule) {
    return JSON.stringify(rule).indexOf('"target.') >= 0;
  }

  function Builder(textarea, options) {
    this.textarea = textarea;
    this.options = Object.assign({fieldsUrl: "/api/schemas/{schema}/fields/", countUrl: "/api/audiences/count/",
      previewUrl: "/api/audiences/preview/", mode: "rule", path: "where", live: true, preview: true}, options || {});
    this.id = "rb" + (counter += 1);
    this.targets = this.options.targets || null;
    this.variables = this.options.variables || {};
    this.tree = null;
    this.timer = null;
    this.sequence = 0;
    this.build();
    this.readText(false);
    this.refresh();
  }

  Builder.prototype.build = function () {
    const self = this;
    this.tabs = {
      visual: h("button", {type: "button", class: "rb-tab rb-tab-on", "aria-pressed": "true"}, "Builder"),
      json: h("button", {type: "button", class: "rb-tab", "aria-pressed": "false"}, "JSON"),
    };
    this.tabs.visual.addEventListener("click", function () { self.showJSON(false); });
    this.tabs.json.addEventListener("click", function () { self.showJSON(true); });
    this.countEl = h("span", {class: "rb-count", "aria-live": "polite"});
    this.visual = h("div", {class: "rb-visual"});
    this.jsonErrors = h("ul", {class: "rb-json-errors errorlist"});
    this.jsonPanel = h("div", {class: "rb-json", hidden: ""});
    this.rowsEl = h("div", {class: "rb-rows"});
    this.sqlEl = h("pre", {class: "rb-sql", hidden: ""});
    this.sqlBox = h("details", {class: "rb-sql-box", hidden: ""}, h("summary", null, "The SQL it runs"), this.sqlEl);
    this.previewEl = h("details", {class: "rb-preview"}, h("summary", null, "Preview the first rows"), this.rowsEl, this.sqlBox);
    this.previewEl.addEventListener("toggle", function () { if (self.previewEl.open) self.loadPreview(); });
    this.root = h("div", {class: "rule-builder", id: this.id, "data-mode": this.options.mode},
      h("div", {class: "rb-toolbar"}, this.tabs.visual, this.tabs.json, this.countEl), this.visual, this.jsonPanel);
    if (this.options.preview && this.options.mode === "rule") this.root.appendChild(this.previewEl);
    this.textarea.parentNode.insertBefore(this.root, this.textarea);
    this.jsonPanel.appendChild(this.textarea);
    this.jsonPanel.appendChild(this.jsonErrors);
    this.textarea.classList.add("rb-json-text");
    this.onInput = function () { if (!self.writing) { self.readText(true); } };
    this.textarea.addEventListener("input", this.onInput);
  };

  Builder.prototype.schema = function () {
    const s = this.options.schema;
    return typeof s === "function" ? s() : s || null;
  };

  Builder.prototype.context = function () {
    const self = this;
    return {tree: this.tree, schema: this.schema(), targets: this.targets, variables: this.variables,
      mode: this.options.mode, allowVariables: this.options.allowVariables !== false && Object.keys(this.variables).length > 0,
      root: this.id, path: this.options.path, changed: function (structural) { self.changed(structural); }};
  };

  /* Read the textarea: rebuild the blocks, or show why not. */
  Builder.prototype.readText = function (fromUser) {
    const text = this.textarea.value.trim();
    this.jsonErrors.textContent = "";
    let doc;
    try {
      doc = text ? JSON.parse(text) : {and: []};
    } catch (error) {
      this.invalid([{path: "", message: "not JSON: " + jsonErrorPlace(text, error)}]);
      return;
    }
    const read = RB.model.read(doc === null ? {and: []} : doc, this.options.path);
    if (read.errors.length) { this.invalid(read.errors); return; }
    this.node = read.node;
    this.broken = false;
    this.root.classList.remove("rb-broken");
    if (fromUser) { this.draw(); this.schedule(); }
  };

  Builder.prototype.invalid = function (errors) {
    const self = this;
    this.broken = true;
    clearTimeout(this.timer);
    this.sequence += 1;  // a count under way answers for a rule that is no longer there
    this.root.classList.add("rb-broken");
    errors.forEach(function (e) {
      self.jsonErrors.appendChild(h("li", {"data-path": e.path}, e.path ? h("code", null, e.path) : null, (e.path ? ": " : "") + e.message));
    });
    this.countEl.textContent = "Fix the JSON to count.";
    if (!this.jsonPanel.hidden) return;
    this.showJSON(true);
  };

  Builder.prototype.showJSON = function (on) {
    if (!on && this.broken) return;
    this.jsonPanel.hidden = !on;
    this.visual.hidden = on;
    this.tabs.json.classList.toggle("rb-tab-on", on);
    this.tabs.visual.classList.toggle("rb-tab-on", !on);
    this.tabs.json.setAttribute("aria-pressed", on ? "true" : "false");
    this.tabs.visual.setAttribute("aria-pressed", on ? "false" : "true");
    if (!on) this.draw();
  };

  Builder.prototype.rule = function () {
    return RB.model.write(this.node);
  };

  Builder.prototype.setRule = function (rule) {
    this.node = RB.model.read(rule, this.options.path).node;
    this.changed(true);
  };

  Builder.prototype.changed = function (structural) {
    const rule = this.rule();
    this.writing = true;
    this.textarea.value = JSON.stringify(rule, null, 2);
    this.textarea.dispatchEvent(new Event("input", {bubbles: true}));
    this.textarea.dispatchEvent(new Event("change", {bubbles: true}));
    this.writing = false;
    this.jsonErrors.textContent = "";
    if (structural) this.draw();
    if (this.options.onChange) this.options.onChange(rule);
    this.schedule();
  };

  Builder.prototype.refresh = function () {
    const self = this;
    const schema = this.schema();
    if (this.options.mode === "condition" || !schema) {
      this.tree = this.options.mode === "condition" ? {schemas: {}, audiences: []} : null;
      this.draw();
      this.schedule();
      return Promise.resolve();
    }
    const url = this.options.fieldsUrl.replace("{schema}", encodeURIComponent(schema));
    return RB.fields.load(url).then(function (tree) {
      RB.operators = tree.operators;
      RB.aggregateOperators = tree.aggregate_operators;
      self.tree = tree;
      if (!self.broken) self.readText(false);
      self.draw();
      self.schedule();
    }).catch(function (error) { self.countEl.textContent = error.message; });
  };

  Builder.prototype.draw = function () {
    if (this.broken || !this.node) return;
    this.visual.textContent = "";
    if (!this.schema() && this.options.mode !== "condition") {
      this.visual.appendChild(h("p", {class: "rb-hint"}, this.options.hint || "Choose a schema first: its fields appear here."));
      return;
    }
    if (!this.tree) { this.visual.appendChild(h("p", {class: "rb-hint"}, "Loading the fields…")); return; }
    this.visual.appendChild(RB.view.render(this.node, this.context()));
    this.showErrors(this.lastErrors || []);
  };

  Builder.prototype.schedule = function () {
    const self = this;
    clearTimeout(this.timer);
    if (!this.options.live || this.options.mode !== "rule" || this.broken) return;
    this.timer = setTimeout(function () { self.count(); }, 450);
  };

  Builder.prototype.body = function (extra) {
    const values = {};
    const vars = this.options.variableValues || {};
    Object.keys(this.variables).forEach(function (name) {
      values[name] = name in vars ? vars[name] : this.variables[name].default;
    }, this);
    return Object.assign({schema: this.schema(), where: this.rule(), variables: values}, extra || {});
  };

  Builder.prototype.count = function () {
    const self = this;
    const schema = this.schema();
    if (!schema || !this.tree) return;
    if (this.targets !== null || usesTargets(this.rule())) {
      this.countEl.textContent = "Counted when it runs, on the population flowing in.";
      return;
    }
    const sequence = (this.sequence += 1);
    this.countEl.textContent = "Counting…";
    this.root.classList.add("rb-counting");
    post(this.options.countUrl, this.body()).then(function (result) {
      if (sequence !== self.sequence) return;
      self.root.classList.remove("rb-counting");
      const label = RB.fields.schemaOf(self.context(), schema).label;
      if (!result.ok) {
        self.lastErrors = result.answer.errors || [{path: "", message: result.answer.detail || "could not count (" + result.status + ")"}];
        self.countEl.textContent = "Not counted: " + self.lastErrors.length + " problem" + (self.lastErrors.length > 1 ? "s" : "") + " (marked below)";
        self.showErrors(self.lastErrors);
        return;
      }
      self.lastErrors = [];
      self.showErrors([]);
      self.countEl.textContent = "";
      self.countEl.appendChild(h("strong", {class: "rb-count-value", "data-count": result.answer.count}, result.answer.count.toLocaleString("en")));
      self.countEl.appendChild(document.createTextNode(" " + label.toLowerCase() + " match · " + result.answer.elapsed_ms + " ms"));
      if (self.previewEl.open) self.loadPreview();
    });
  };

  Builder.prototype.showErrors = function (errors) {
    const self = this;
    this.root.querySelectorAll(".rb-invalid").forEach(function (el) { el.classList.remove("rb-invalid"); });
    this.root.querySelectorAll(".rb-error").forEach(function (el) { el.textContent = ""; });
    this.jsonErrors.textContent = "";
    errors.forEach(function (error) {
      self.jsonErrors.appendChild(h("li", {"data-path": error.path}, error.path ? h("code", null, error.path) : null, (error.path ? ": " : "") + error.message));
      const block = self.blockFor(error.path);
      if (!block) return;
      block.classList.add("rb-invalid");
      const slot = block.querySelector(":scope > .rb-error");
      if (slot) slot.appendChild(h("span", {"data-path": error.path}, error.message));
    });
  };

  Builder.prototype.blockFor = function (path) {
    let best = null, length = -1;
    this.visual.querySelectorAll("[data-path]").forEach(function (el) {
      const p = el.getAttribute("data-path");
      const fits = path === p || path.indexOf(p + ".") === 0 || path.indexOf(p + "[") === 0;
      if (fits && p.length > length) { best = el; length = p.length; }
    });
    return best;
  };

  Builder.prototype.loadPreview = function () {
    const self = this;
    if (!this.schema() || this.broken || usesTargets(this.rule())) return;
    this.rowsEl.textContent = "Loading…";
    post(this.options.previewUrl, this.body({limit: 10})).then(function (result) {
      self.rowsEl.textContent = "";
      if (!result.ok) {
        self.rowsEl.appendChild(h("p", {class: "rb-hint"}, result.answer.detail || "The preview could not be shown."));
        return;
      }
      self.rowsEl.appendChild(RB.table(result.answer.columns || Object.keys(result.answer.rows[0] || {}), result.answer.rows));
      self.sqlEl.hidden = false;
      self.sqlBox.hidden = false;
      self.sqlEl.textContent = result.answer.sql + "\n-- parameters: " + JSON.stringify(result.answer.params);
    });
  };

  Builder.prototype.setSchema = function (name) { this.options.schema = name; this.lastErrors = []; return this.refresh(); };
  Builder.prototype.setTargets = function (targets) { this.targets = targets || null; this.draw(); };
  Builder.prototype.setVariables = function (vars) { this.variables = vars || {}; this.draw(); };
  Builder.prototype.destroy = function () {
    this.textarea.removeEventListener("input", this.onInput);
    this.root.parentNode.insertBefore(this.textarea, this.root);
    this.root.remove();
    this.textarea.hidden = false;
  };

  /* A value as people read it: date-times in the browser's time zone, without microseconds. */
  function readable(value) {
    if (value === null || value === undefined) return "—";
    if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) {
      const when = new Date(value);
      if (!isNaN(when)) return when.toLocaleString(undefined, {dateStyle: "medium", timeStyle: "short"});
    }
    return String(value);
  }

  RB.table = function (columns, rows) {
    const table = h("table", {class: "rb-table"});
    const head = h("tr");
    columns.forEach(function (c) { head.appendChild(h("th", {scope: "col"}, c.split(".").join(" › ").replace(/_/g, " "))); });
    table.appendChild(h("thead", null, head));
    const body = h("tbody");
    rows.forEach(function (row) {
      const tr = h("tr");
      columns.forEach(function (c) { tr.appendChild(h("td", null, readable(row[c]))); });
      body.appendChild(tr);
    });
    table.appendChild(body);
    return table;
  };

  RB.attach = function (textarea, options) {
    if (textarea._ruleBuilder) return textarea._ruleBuilder;
    textarea._ruleBuilder = new Builder(textarea, options);
    return textarea._ruleBuilder;
  };
  RB.Builder = Builder;
})(window.RuleBuilder = window.RuleBuilder || {});
