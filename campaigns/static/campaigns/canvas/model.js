/* The canvas's model (design 12): the campaign definition document being edited (design 5.4), the
 * activity kinds of the registry (``kinds/``), what may be connected, and the undo history.
 *
 *   const model = new CampaignCanvas.Model(definition, kinds);   // kinds: the kinds/ list
 *   model.ports(activity)            // its output ports (a split's come from its subsets)
 *   model.refusal(from, port, to)    // why that connection is refused, in words, or ""
 *   model.change(label, function () { ... })   // an undoable edit; listeners are told
 *   model.undo() / model.redo() / model.copy(ids) / model.paste(clip, [dx, dy])
 *
 * The document keeps every activity as the API exports it ({id, type, label, position, ...its
 * options}) so that saving it is the same PUT the API takes. */
(function (CC) {
  "use strict";

  function clone(value) { return JSON.parse(JSON.stringify(value)); }
  CC.clone = clone;

  const LIST_PORTS = {split: ["subsets", "complement"], test: ["conditions", null]};

  function Model(definition, kinds) {
    this.doc = clone(definition);
    this.doc.activities = this.doc.activities || [];
    this.doc.transitions = this.doc.transitions || [];
    this.kinds = {};
    (kinds || []).forEach(function (k) { this.kinds[k.type] = k; }, this);
    this.past = [];
    this.future = [];
    this.listeners = [];
    this.dirty = false;
  }

  Model.prototype.on = function (fn) { this.listeners.push(fn); };
  Model.prototype.emit = function (what) {
    this.listeners.forEach(function (fn) { fn(what); });
  };

  Model.prototype.kind = function (type) {
    return this.kinds[type] || {type: type, label: type, group: "flow", inputs: "one", ports: ["out"], options: {properties: {}}, defaults: {}, help: "An unknown kind."};
  };

  Model.prototype.activity = function (id) {
    return this.doc.activities.find(function (a) { return a.id === id; }) || null;
  };

  Model.prototype.title = function (a) { return a.label || a.id; };

  /* The output ports of an activity: the kind's, or for a split its subsets' names (and
   * complement when asked), for a test its conditions' names and default. */
  Model.prototype.ports = function (a) {
    const kind = this.kind(a.type);
    if (!kind.ports_from_options) return kind.ports.slice();
    const spec = LIST_PORTS[a.type];
    if (!spec) return kind.ports.slice();
    const names = (Array.isArray(a[spec[0]]) ? a[spec[0]] : [])
      .map(function (item) { return item && typeof item.name === "string" ? item.name : ""; })
      .filter(function (n) { return n; });
    if (a.type === "split") return a.complement ? names.concat(["complement"]) : names;
    return names.concat(["default"]);
  };

  Model.prototype.inbound = function (id) {
    return this.doc.transitions.filter(function (t) { return t.to === id; });
  };
  Model.prototype.outbound = function (id) {
    return this.doc.transitions.filter(function (t) { return t.from === id; });
  };

  Model.prototype.reaches = function (from, to) {
    const seen = {}, stack = [from], transitions = this.doc.transitions;
    while (stack.length) {
      const here = stack.pop();
      if (here === to) return true;
      if (seen[here]) continue;
      seen[here] = true;
      transitions.forEach(function (t) { if (t.from === here) stack.push(t.to); });
    }
    return false;
  };

  /* Why connecting ``from``'s ``port`` to ``to`` is refused, in words; "" when it is accepted. */
  Model.prototype.refusal = function (from, port, to) {
    const source = this.activity(from), target = this.activity(to);
    if (!source || !target) return "Drop the connection on an activity.";
    const kind = this.kind(target.type), name = this.title(target);
    if (from === to) return "An activity cannot feed itself.";
    if (this.ports(source).indexOf(port) < 0) return this.title(source) + " has no port " + port + ".";
    if (kind.inputs === "none") return kind.label + " '" + name + "' takes no input: it starts the campaign.";
    const inbound = this.inbound(to);
    if (inbound.some(function (t) { return t.from === from && (t.port || "out") === port; })) {
      return "'" + this.title(source) + "' " + port + " already goes to '" + name + "'.";
    }
    if (kind.inputs !== "many" && inbound.length) {
      return kind.label + " '" + name + "' takes one input; merge branches with a Combine first.";
    }
    if (this.reaches(to, from)) return "That connection would make a loop: campaigns flow one way.";
    return "";
  };

  Model.prototype.snapshot = function () { return JSON.stringify(this.doc); };

  /* Apply ``fn`` as one undoable step; listeners are told ``label``. */
  Model.prototype.change = function (label, fn) {
    const before = this.snapshot();
    const result = fn.call(this);
    if (this.snapshot() === before) return result;
    this.past.push(before);
    if (this.past.length > 200) this.past.shift();
    this.future = [];
    this.dirty = true;
    this.emit(label);
    return result;
  };

  Model.prototype.undo = function () {
    if (!this.past.length) return false;
    this.future.push(this.snapshot());
    this.doc = JSON.parse(this.past.pop());
    this.dirty = true;
    this.emit("undo");
    return true;
  };

  Model.prototype.redo = function () {
    if (!this.future.length) return false;
    this.past.push(this.snapshot());
    this.doc = JSON.parse(this.future.pop());
    this.dirty = true;
    this.emit("redo");
    return true;
  };

  /* Replace the document without history (after a save, the server's export). */
  Model.prototype.reset = function (definition) {
    this.doc = clone(definition);
    this.dirty = false;
    this.emit("reset");
  };

  Model.prototype.freshId = function (base) {
    base = String(base || "activity").toLowerCase().replace(/[^a-z0-9_]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 34) || "activity";
    const taken = {};
    this.doc.activities.forEach(function (a) { taken[a.id] = true; });
    if (!taken[base]) return base;
    for (let n = 2; ; n++) if (!taken[base + "_" + n]) return base + "_" + n;
  };

  Model.prototype.add = function (type, position) {
    const kind = this.kind(type);
    const id = this.freshId(type);
    const activity = Object.assign({id: id, type: type, label: "", position: [Math.round(position[0]), Math.round(position[1])]}, clone(kind.defaults || {}));
    this.doc.activities.push(activity);
    return id;
  };

  Model.prototype.connect = function (from, port, to) {
    const t = {from: from, to: to};
    if (port !== "out") t.port = port;
    this.doc.transitions.push(t);
  };

  Model.prototype.removeTransition = function (edge) {
    this.doc.transitions = this.doc.transitions.filter(function (t) {
      return !(t.from === edge.from && (t.port || "out") === (edge.port || "out") && t.to === edge.to);
    });
  };

  Model.prototype.remove = function (ids) {
    const gone = {};
    ids.forEach(function (id) { gone[id] = true; });
    this.doc.activities = this.doc.activities.filter(function (a) { return !gone[a.id]; });
    this.doc.transitions = this.doc.transitions.filter(function (t) { return !gone[t.from] && !gone[t.to]; });
  };

  /* Rename an activity's id; its transitions follow. Returns "" or why it is refused. */
  Model.prototype.rename = function (old, id) {
    if (old === id) return "";
    if (!/^[a-z0-9_]{1,40}$/.test(id)) return "An id is 1 to 40 lowercase letters, digits or _.";
    if (this.activity(id)) return "Another activity is already called " + id + ".";
    this.activity(old).id = id;
    this.doc.transitions.forEach(function (t) {
      if (t.from === old) t.from = id;
      if (t.to === old) t.to = id;
    });
    return "";
  };

  Model.prototype.copy = function (ids) {
    const chosen = {};
    ids.forEach(function (id) { chosen[id] = true; });
    return {
      activities: clone(this.doc.activities.filter(function (a) { return chosen[a.id]; })),
      transitions: clone(this.doc.transitions.filter(function (t) { return chosen[t.from] && chosen[t.to]; })),
    };
  };

  /* Paste a copy with fresh ids, moved by ``offset``; returns the new ids. */
  Model.prototype.paste = function (clip, offset) {
    const renamed = {}, self = this, added = [];
    clip.activities.forEach(function (a) {
      const copy = clone(a);
      copy.id = self.freshId(a.id + "_copy");
      const p = a.position || [0, 0];
      copy.position = [p[0] + offset[0], p[1] + offset[1]];
      renamed[a.id] = copy.id;
      self.doc.activities.push(copy);
      added.push(copy.id);
    });
    clip.transitions.forEach(function (t) {
      const copy = clone(t);
      copy.from = renamed[t.from];
      copy.to = renamed[t.to];
      self.doc.transitions.push(copy);
    });
    return added;
  };

  CC.Model = Model;
})(window.CampaignCanvas = window.CampaignCanvas || {});
