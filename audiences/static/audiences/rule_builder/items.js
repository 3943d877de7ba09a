/* Rules inside a list option (a split's subsets[].where, a test's conditions[].when): one rule
 * builder per item, under the list's JSON, both kept in sync.
 *
 *   const items = RuleBuilder.attachItems(textarea, {key: "where", noun: "subset", ...builder options})
 *   items.setSchema(name) / setTargets(t) / setVariables(v) / refresh()  (passed to every builder)
 *
 * The textarea keeps the whole list as JSON (the form posts it); each item is named by its
 * ``name``. "+ Add" appends an item with a fresh name and an empty rule. */
(function (RB) {
  "use strict";
  const h = function () { return RB.h.apply(null, arguments); };

  function Items(textarea, options) {
    this.textarea = textarea;
    this.options = options;
    this.builders = [];
    this.state = {};
    this.box = h("div", {class: "rb-items"});
    const self = this;
    const toggle = h("button", {type: "button", class: "rb-tab rb-items-json", "aria-pressed": "false"}, "JSON of the list");
    toggle.addEventListener("click", function () {
      textarea.hidden = !textarea.hidden;
      toggle.classList.toggle("rb-tab-on", !textarea.hidden);
      toggle.setAttribute("aria-pressed", textarea.hidden ? "false" : "true");
    });
    this.wrap = h("div", {class: "rule-builder rb-items-wrap"}, this.box, h("div", {class: "rb-toolbar"}, toggle));
    textarea.parentNode.insertBefore(this.wrap, textarea);
    this.wrap.appendChild(textarea);
    textarea.hidden = true;
    textarea.addEventListener("input", function () { if (!self.writing) self.read(); });
    this.read();
  }

  Items.prototype.list = function () {
    const text = this.textarea.value.trim();
    if (!text || text === "null") return [];
    try {
      const value = JSON.parse(text);
      return Array.isArray(value) ? value : null;
    } catch (error) {
      return null;
    }
  };

  Items.prototype.read = function () {
    const items = this.list();
    if (items === null) {
      this.box.textContent = "";
      this.textarea.hidden = false;
      this.box.appendChild(h("p", {class: "rb-hint"}, "Fix the JSON below to edit the rules as blocks."));
      return;
    }
    this.items = items;
    this.draw();
  };

  Items.prototype.write = function () {
    this.writing = true;
    this.textarea.value = JSON.stringify(this.items, null, 2);
    this.textarea.dispatchEvent(new Event("change", {bubbles: true}));
    this.writing = false;
  };

  Items.prototype.draw = function () {
    const self = this, key = this.options.key, noun = this.options.noun;
    this.builders.forEach(function (b) { b.destroy(); });
    this.builders = [];
    this.box.textContent = "";
    this.items.forEach(function (item, index) {
      if (!item || typeof item !== "object") return;
      const name = item.name ? noun + " “" + item.name + "”" : noun + " " + (index + 1);
      const area = h("textarea", {class: "rb-item-rule", "aria-label": "Rule of " + name});
      area.value = JSON.stringify(item[key] || {and: []}, null, 2);
      const card = h("div", {class: "rb-item", "data-item": String(index)},
        h("div", {class: "rb-item-title"}, name.charAt(0).toUpperCase() + name.slice(1)), area);
      self.box.appendChild(card);
      const builder = RB.attach(area, Object.assign({}, self.options, {
        onChange: function (rule) { self.items[index][key] = rule; self.write(); },
      }));
      self.apply(builder);
      self.builders.push(builder);
    });
    const add = h("button", {type: "button", class: "rb-item-add"}, "+ Add a " + noun);
    add.addEventListener("click", function () {
      const names = self.items.map(function (i) { return i && i.name; });
      let n = self.items.length + 1;
      while (names.indexOf(noun + "_" + n) >= 0) n += 1;
      const item = {name: noun + "_" + n};
      item[key] = {and: []};
      self.items.push(item);
      self.write();
      self.draw();
    });
    this.box.appendChild(add);
  };

  Items.prototype.apply = function (builder) {
    if ("targets" in this.state) builder.setTargets(this.state.targets);
    if ("variables" in this.state) builder.setVariables(this.state.variables);
    if ("schema" in this.state) builder.setSchema(this.state.schema);
  };

  ["setSchema", "setTargets", "setVariables"].forEach(function (method) {
    const field = {setSchema: "schema", setTargets: "targets", setVariables: "variables"}[method];
    Items.prototype[method] = function (value) {
      this.state[field] = value;
      this.builders.forEach(function (b) { b[method](value); });
    };
  });
  Items.prototype.refresh = function () { this.builders.forEach(function (b) { b.refresh(); }); };

  RB.attachItems = function (textarea, options) {
    if (!textarea._ruleItems) textarea._ruleItems = new Items(textarea, options);
    return textarea._ruleItems;
  };
})(window.RuleBuilder = window.RuleBuilder || {});
