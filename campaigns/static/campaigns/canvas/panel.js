/* The side panel of the selected activity (design 9 and 12): its id, label and options, the inputs
 * generated from its kind's option schema (the ``options`` of ``kinds/``):
 *
 * - ``enum`` a select, ``boolean`` a checkbox, ``integer``/``number`` a number input;
 * - ``x-widget`` ``rule`` / ``condition``: the rule builder (``RuleBuilder.attach``), written
 *   against the schema its ``x-rule-schema`` names (a sibling option, or ``inbound``: the
 *   population flowing in, asked of ``campaigns/{id}/rule-context/``); a list whose items hold
 *   a rule (a split's subsets, a test's conditions): one builder per item (``attachItems``);
 * - ``template``: a template editor with the rendered preview of a chosen record
 *   (``POST campaigns/{id}/preview/``, after saving the draft it renders);
 * - ``schema``, ``audience``, ``group``, ``user``: a select of the names; ``activity``: of the
 *   activities flowing in; any other object or list: its JSON, checked as it is typed.
 *
 *   CampaignCanvas.panel(container, model, activity, {editable, errors, urls, choices,
 *                        variables, beforePreview: function () -> Promise}) */
(function (CC) {
  "use strict";
  const h = function () { return CC.h.apply(null, arguments); };

  function words(name) { return name.replace(/_/g, " "); }
  function sentence(name) { const w = words(name); return w.charAt(0).toUpperCase() + w.slice(1); }

  function csrf() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    const match = /(?:^|;\s*)csrftoken=([^;]+)/.exec(document.cookie);
    return match ? decodeURIComponent(match[1]) : "";
  }
  CC.post = function (url, body) {
    return fetch(url, {method: "POST", credentials: "same-origin", headers: {"Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf()}, body: JSON.stringify(body)})
      .then(function (r) { return r.json().catch(function () { return {}; }).then(function (data) { return {ok: r.ok, status: r.status, data: data}; }); });
  };
  CC.get = function (url) {
    return fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (r) { return r.json().catch(function () { return {}; }).then(function (data) { return {ok: r.ok, status: r.status, data: data}; }); });
  };
  CC.problems = function (data) {
    return ((data && data.errors) || []).map(function (e) { return e.words || ((e.path ? e.path + ": " : "") + e.message); }).join("; ") || (data && data.detail) || "refused";
  };

  function itemRule(prop) {
    const items = prop.type === "array" ? prop.items || {} : {};
    const props = items.properties || {};
    for (const key in props) {
      const w = props[key]["x-widget"];
      if (w === "rule" || w === "condition") return {key: key, mode: w, source: props[key]["x-rule-schema"] || "schema"};
    }
    return null;
  }

  function emptyValue(prop) { return prop.nullable || prop["default"] === null || prop["default"] === undefined ? null : ""; }

  function Panel(box, model, activity, opts) {
    this.box = box;
    this.model = model;
    this.a = activity;
    this.opts = opts;
    this.editable = opts.editable;
    this.builders = [];
  }

  Panel.prototype.set = function (name, value) {
    const id = this.a.id;
    this.model.change("option", function () {
      const a = this.activity(id);
      if (a) a[name] = value;
    });
  };

  Panel.prototype.row = function (name, prop, input, extra) {
    const label = h("label", {class: "cc-field-label", for: input.id || "", text: prop.title || sentence(name)});
    const help = prop.description ? h("p", {class: "help cc-help", text: prop.description}) : null;
    return h("div", {class: "cc-field cc-option-" + name, "data-option": name}, [label, input, extra || null, help]);
  };

  Panel.prototype.control = function (name, prop) {
    const self = this, value = this.a[name], widget = prop["x-widget"] || "", id = "cc-opt-" + this.a.id + "-" + name;
    const disabled = this.editable ? {} : {disabled: ""};
    const base = Object.assign({id: id, name: "cc_" + name, "data-option": name}, disabled);
    if (prop["enum"]) {
      const select = h("select", base);
      if (prop.nullable || value === null) select.appendChild(h("option", {value: "", text: "\u2014"}));
      prop["enum"].forEach(function (v) { select.appendChild(h("option", {value: String(v), text: String(v)})); });
      select.value = value === null || value === undefined ? "" : String(value);
      select.addEventListener("change", function () {
        const found = prop["enum"].find(function (v) { return String(v) === select.value; });
        self.set(name, found === undefined ? null : found);
      });
      return this.row(name, prop, select);
    }
    if (prop.type === "boolean") {
      const box = h("input", Object.assign({type: "checkbox"}, base));
      box.checked = !!value;
      box.addEventListener("change", function () { self.set(name, box.checked); });
      return this.row(name, prop, box);
    }
    if (prop.type === "integer" || prop.type === "number") {
      const input = h("input", Object.assign({type: "number", step: prop.type === "integer" ? "1" : "any"}, base));
      if (prop.minimum !== undefined) input.min = prop.minimum;
      if (prop.maximum !== undefined) input.max = prop.maximum;
      input.value = value === null || value === undefined ? "" : value;
      input.addEventListener("change", function () {
        self.set(name, input.value === "" ? emptyValue(prop) : Number(input.value));
      });
      return this.row(name, prop, input);
    }
    if (widget === "rule" || widget === "condition" || itemRule(prop)) return this.ruleControl(name, prop, base);
    if (["schema", "audience", "group", "user", "activity"].indexOf(widget) >= 0) {
      let names = (this.opts.choices || {})[widget] || [];
      if (widget === "activity") names = this.model.inbound(this.a.id).map(function (t) { return t.from; });
      const select = h("select", base);
      select.appendChild(h("option", {value: "", text: "\u2014"}));
      names.concat(value && names.indexOf(value) < 0 ? [value] : []).forEach(function (n) { select.appendChild(h("option", {value: n, text: n})); });
      select.value = value || "";
      select.addEventListener("change", function () {
        self.set(name, select.value || emptyValue(prop));
        if (widget === "schema") self.builders.forEach(function (b) { if (b.setSchema) b.setSchema(select.value || null); });
      });
      return this.row(name, prop, select);
    }
    if (prop.type === "string") {
      const multi = widget === "template" || widget === "textarea";
      const input = h(multi ? "textarea" : "input", Object.assign(multi ? {rows: widget === "template" ? "7" : "3", spellcheck: "false"} : {type: "text"}, base));
      if (widget === "duration") input.placeholder = "e.g. 2d, 6h, 30min";
      input.value = value === null || value === undefined ? "" : value;
      input.addEventListener("change", function () { self.set(name, input.value === "" ? emptyValue(prop) : input.value); });
      if (widget === "template") input.classList.add("cc-template");
      return this.row(name, prop, input);
    }
    return this.jsonControl(name, prop, base);
  };

  Panel.prototype.jsonControl = function (name, prop, base) {
    const self = this, value = this.a[name];
    const area = h("textarea", Object.assign({rows: "4", spellcheck: "false", class: "cc-json"}, base));
    area.value = value === null || value === undefined ? "" : JSON.stringify(value, null, 2);
    const problem = h("p", {class: "errornote cc-json-error", hidden: ""});
    area.addEventListener("change", function () {
      if (!area.value.trim()) { problem.hidden = true; self.set(name, emptyValue(prop)); return; }
      try {
        const parsed = JSON.parse(area.value);
        problem.hidden = true;
        self.set(name, parsed);
      } catch (e) {
        problem.textContent = "Not JSON: " + e.message;
        problem.hidden = false;
      }
    });
    return this.row(name, prop, area, problem);
  };

  Panel.prototype.ruleControl = function (name, prop, base) {
    const self = this, value = this.a[name], nested = itemRule(prop);
    const area = h("textarea", Object.assign({rows: "5", spellcheck: "false"}, base));
    area.value = value === null || value === undefined ? "" : JSON.stringify(value, null, 2);
    const row = this.row(name, prop, h("div", {class: "cc-rule-host"}, [area]));
    const source = nested ? nested.source : prop["x-rule-schema"] || "schema";
    const mode = nested ? nested.mode : prop["x-widget"];
    const options = {
      mode: mode, live: mode === "rule", preview: false, fieldsUrl: this.opts.urls.fields,
      variables: varsOf(this.model.doc.variables),
      schema: source === "inbound" ? null : function () { const a = self.model.activity(self.a.id); return a ? a[source] || null : null; },
    };
    if (source === "inbound") options.hint = "Nothing flows into this activity yet: connect an input and save; its fields then appear here.";
    function read() {
      if (!self.editable) return;
      if (!area.value.trim()) { self.set(name, emptyValue(prop)); return; }
      try { self.set(name, JSON.parse(area.value)); } catch (e) { /* the builder shows the error */ }
    }
    area.addEventListener("change", read);
    area.addEventListener("input", read);
    if (!window.RuleBuilder || !window.RuleBuilder.attach) return row;
    window.setTimeout(function () {
      let builder;
      if (nested) builder = window.RuleBuilder.attachItems(area, Object.assign({key: nested.key, noun: words(name).replace(/s$/, "")}, options));
      else builder = window.RuleBuilder.attach(area, options);
      self.builders.push(builder);
      if (source === "inbound" && self.opts.urls.ruleContext) {
        CC.get(self.opts.urls.ruleContext + "?activity=" + encodeURIComponent(self.a.id)).then(function (r) {
          if (!r.ok) return;
          builder.setVariables(r.data.variables || {});
          builder.setTargets(r.data.targets || null);
          builder.setSchema(r.data.schema || null);
        });
      }
    }, 0);
    return row;
  };

  function varsOf(list) {
    const found = {};
    (list || []).forEach(function (v) { found[v.name] = {type: v.type, "default": v["default"]}; });
    return found;
  }

  Panel.prototype.preview = function () {
    const self = this, record = h("input", {type: "text", class: "cc-preview-record", placeholder: "record key", "aria-label": "Record to preview"});
    const out = h("div", {class: "cc-preview-out", "aria-live": "polite"});
    const button = h("button", {type: "button", class: "button cc-preview-button", text: "Preview", onclick: function () {
      out.textContent = "Rendering\u2026";
      const before = self.opts.beforePreview ? self.opts.beforePreview() : Promise.resolve(true);
      before.then(function (saved) {
        if (!saved) { out.textContent = "Save the campaign first."; return null; }
        return CC.post(self.opts.urls.preview, {activity: self.a.id, record: record.value.trim()}).then(function (r) {
          out.textContent = "";
          if (!r.ok) { out.appendChild(h("p", {class: "errornote", text: CC.problems(r.data)})); return; }
          show(out, r.data);
        });
      });
    }});
    return h("div", {class: "cc-preview"}, [h("h4", {text: "Preview for a record"}), h("div", {class: "cc-preview-form"}, [record, button]), out]);
  };

  function show(out, data) {
    Object.keys(data).forEach(function (key) {
      const value = data[key];
      if (key === "html" && typeof value === "string") {
        const frame = h("iframe", {class: "cc-preview-html", sandbox: "", title: "Rendered HTML"});
        frame.srcdoc = value;
        out.appendChild(h("div", {class: "cc-preview-item"}, [h("strong", {text: "html"}), frame]));
        return;
      }
      const text = typeof value === "string" ? value : JSON.stringify(value);
      out.appendChild(h("div", {class: "cc-preview-item cc-preview-" + key}, [h("strong", {text: words(key) + ": "}), h("span", {text: text})]));
    });
  }

  Panel.prototype.render = function () {
    const self = this, a = this.a, kind = this.model.kind(a.type), box = this.box;
    box.textContent = "";
    box.appendChild(h("h3", {class: "cc-panel-title", text: this.model.title(a)}));
    box.appendChild(h("p", {class: "cc-panel-kind"}, [h("strong", {text: kind.label}), " \u2014 " + (kind.help || "")]));
    (this.opts.errors || []).forEach(function (m) { box.appendChild(h("p", {class: "errornote cc-panel-error", text: m})); });
    if (this.opts.runBox) box.appendChild(this.opts.runBox);
    const idInput = h("input", {type: "text", id: "cc-id-" + a.id, value: a.id, name: "cc_id", maxlength: "40"});
    const labelInput = h("input", {type: "text", id: "cc-label-" + a.id, value: a.label || "", name: "cc_label", maxlength: "200", placeholder: "shown on the canvas"});
    const idProblem = h("p", {class: "errornote", hidden: ""});
    if (!this.editable) { idInput.disabled = true; labelInput.disabled = true; }
    idInput.addEventListener("change", function () {
      const old = self.a.id, wanted = idInput.value.trim();
      let why = "";
      self.model.change("rename", function () { why = this.rename(old, wanted); });
      idProblem.textContent = why;
      idProblem.hidden = !why;
      if (why) idInput.value = old;
      else if (self.opts.onRename) self.opts.onRename(wanted);
    });
    labelInput.addEventListener("change", function () {
      const id = self.a.id;
      self.model.change("label", function () { this.activity(id).label = labelInput.value.trim(); });
    });
    box.appendChild(this.row("id", {description: "Its identifier in the definition: lowercase letters, digits and _."}, idInput, idProblem));
    box.appendChild(this.row("label", {description: "Free text shown on the canvas and in messages."}, labelInput));
    const props = (kind.options && kind.options.properties) || {};
    let template = false;
    Object.keys(props).forEach(function (name) {
      box.appendChild(self.control(name, props[name]));
      if (props[name]["x-widget"] === "template") template = true;
    });
    if (!Object.keys(props).length) box.appendChild(h("p", {class: "help", text: "This kind has no options."}));
    if (template && this.opts.urls.preview) box.appendChild(this.preview());
  };

  CC.panel = function (box, model, activity, opts) {
    const panel = new Panel(box, model, activity, opts);
    panel.render();
    return panel;
  };
})(window.CampaignCanvas = window.CampaignCanvas || {});
