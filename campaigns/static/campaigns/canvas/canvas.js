/* The campaign canvas (design 12), started on every ``div.campaign-canvas`` from the JSON config
 * its ``data-config`` names (``campaigns.admin_canvas.config``). Editable (the campaign page, a
 * draft or an open revision, for users who may change it): a palette of the registry's kinds
 * (``kinds/``) grouped as targeting, flow control and channels, dragged onto the graph; the
 * toolbar (save, undo, redo, delete, copy, paste, tidy up, test run); the side panel of the
 * selected activity; validation errors on their activity and in a list whose lines select it.
 * Read-only otherwise (published until revised, a Viewer, a run's page, an approver's task):
 * the same drawing, no palette and no editing buttons.
 *
 * Keys on the graph: Delete removes the selection, Ctrl+Z / Ctrl+Y (or Ctrl+Shift+Z) undo and
 * redo, Ctrl+C / Ctrl+V copy and paste, Ctrl+A selects everything, Escape clears; double-click
 * a box to edit its label in place; shift-click or shift-drag selects several. */
(function (CC) {
  "use strict";
  const h = function () { return CC.h.apply(null, arguments); };
  const GROUPS = [["targeting", "Targeting"], ["flow", "Flow control"], ["channels", "Channels"]];

  function Canvas(host, config, kinds) {
    this.host = host;
    this.config = config;
    this.editable = config.editable;
    this.errors = config.errors || {};
    this.model = new CC.Model(config.definition, kinds);
    this.build();
    this.view = new CC.View(this.stage, this.model, {
      editable: this.editable,
      onSelect: this.selected.bind(this),
      onRefused: this.refused.bind(this),
      onLabel: this.editLabel.bind(this),
    });
    this.runs = new CC.Runs(this);
    const self = this;
    this.model.on(function (what) { self.changed(what); });
    this.view.errors = this.errors;
    this.view.run = config.run;
    this.view.layout().then(function () {
      self.view.applyLayout(false);
      self.view.render();
      if (!self.editable) {  // a read-only drawing takes the height it needs
        const b = self.view.bounds();
        self.body.style.height = Math.max(260, Math.min(b.h + 90, window.innerHeight * 0.62)) + "px";
      }
      self.view.fit();
      self.runs.show(config.run);
      self.showErrors();
      self.selected([], null);
      host.classList.add("cc-ready");
    });
  }

  Canvas.prototype.build = function () {
    const self = this, host = this.host;
    host.classList.add(this.editable ? "cc-editable" : "cc-readonly");
    this.status = h("span", {class: "cc-message", role: "status", "aria-live": "polite"});
    const tools = [];
    if (this.editable) {
      this.saveButton = h("button", {type: "button", class: "button default cc-save", text: "Save", title: "Save the definition (a draft is saved even when incomplete)", onclick: function () { self.save(); }});
      tools.push(this.saveButton,
        this.undoButton = h("button", {type: "button", class: "button cc-undo", text: "Undo", title: "Undo (Ctrl+Z)", disabled: "", onclick: function () { self.model.undo(); }}),
        this.redoButton = h("button", {type: "button", class: "button cc-redo", text: "Redo", title: "Redo (Ctrl+Y)", disabled: "", onclick: function () { self.model.redo(); }}),
        h("button", {type: "button", class: "button cc-delete", text: "Delete", title: "Delete the selection (Delete)", onclick: function () { self.remove(); }}),
        h("button", {type: "button", class: "button cc-copy", text: "Copy", title: "Copy the selection (Ctrl+C)", onclick: function () { self.copy(); }}),
        h("button", {type: "button", class: "button cc-paste", text: "Paste", title: "Paste (Ctrl+V)", onclick: function () { self.paste(); }}),
        h("button", {type: "button", class: "button cc-tidy", text: "Tidy up", title: "Lay every activity out again, left to right", onclick: function () { self.tidy(); }}));
    }
    if (this.config.canTestRun) {
      tools.push(h("button", {type: "button", class: "button cc-test-run", "data-action": "test_run", text: "Test run\u2026", title: "Compute every count; nothing is sent", onclick: function () { self.runs.form(); }}));
    }
    const note = this.config.readonly ? h("span", {class: "cc-readonly-note", text: this.config.readonly}) : null;
    const bar = h("div", {class: "cc-toolbar"}, tools.concat([note, this.status, this.tips()]));
    this.palette = this.editable ? this.buildPalette() : null;
    this.stage = h("div", {class: "cc-stage"});
    this.side = h("div", {class: "cc-side", "aria-label": "Selected activity"});
    this.runBar = h("div", {class: "cc-runbar", "aria-live": "polite"});
    this.errorList = h("div", {class: "cc-errors"});
    this.drawer = h("div", {class: "cc-drawer", hidden: ""});
    host.appendChild(bar);
    this.body = h("div", {class: "cc-body"}, [this.palette, this.stage, this.side]);
    host.appendChild(this.body);
    host.appendChild(this.runBar);
    host.appendChild(this.drawer);
    if (this.config.campaign) host.appendChild(this.errorList);
    if (this.editable) {
      window.addEventListener("beforeunload", function (e) { if (self.model.dirty) { e.preventDefault(); e.returnValue = ""; } });
    }
  };

  Canvas.prototype.buildPalette = function () {
    const self = this, box = h("div", {class: "cc-palette", "aria-label": "Activity kinds"});
    box.appendChild(h("p", {class: "cc-palette-hint", text: "Drag a kind onto the graph"}));
    GROUPS.forEach(function (g) {
      const kinds = Object.keys(self.model.kinds).map(function (t) { return self.model.kinds[t]; }).filter(function (k) { return k.group === g[0]; });
      if (!kinds.length) return;
      const list = h("div", {class: "cc-palette-group", "data-group": g[0]}, [h("h4", {text: g[1]})]);
      kinds.forEach(function (k) {
        const item = h("div", {class: "cc-kind cc-group-" + g[0], "data-type": k.type, title: k.help, tabindex: "0", role: "button", "aria-label": "Add " + k.label}, [
          h("span", {class: "cc-kind-label", text: k.label}), h("span", {class: "cc-kind-help", text: k.help})]);
        item.addEventListener("mousedown", function (e) { self.dragKind(e, k); });
        item.addEventListener("keydown", function (e) {
          if (e.key !== "Enter" && e.key !== " ") return;
          e.preventDefault();
          const vp = self.view.viewport, at = self.view.toWorld(vp.getBoundingClientRect().left + vp.clientWidth / 2, vp.getBoundingClientRect().top + vp.clientHeight / 2);
          self.addKind(k.type, at);
        });
        list.appendChild(item);
      });
      box.appendChild(list);
    });
    return box;
  };

  Canvas.prototype.dragKind = function (e, kind) {
    if (e.button !== 0) return;
    e.preventDefault();
    const self = this, ghost = h("div", {class: "cc-ghost cc-group-" + kind.group, text: kind.label});
    document.body.appendChild(ghost);
    function move(ev) { ghost.style.left = ev.clientX + 8 + "px"; ghost.style.top = ev.clientY + 8 + "px"; }
    function up(ev) {
      window.removeEventListener("mousemove", move);
      window.removeEventListener("mouseup", up);
      ghost.remove();
      const over = document.elementFromPoint(ev.clientX, ev.clientY);  // not under the side panel
      if (!over || !self.view.viewport.contains(over)) return;
      self.addKind(kind.type, self.view.toWorld(ev.clientX, ev.clientY));
    }
    move(e);
    window.addEventListener("mousemove", move);
    window.addEventListener("mouseup", up);
  };

  Canvas.prototype.addKind = function (type, at) {
    const id = this.model.change("add", function () { return this.add(type, [at.x - CC.NODE_WIDTH / 2, at.y - 24]); });
    this.view.select([id]);
    this.message(this.model.kind(type).label + " added as " + id + ": connect it and set its options.");
  };

  Canvas.prototype.message = function (text, kind) {
    this.status.textContent = text || "";
    this.status.className = "cc-message" + (kind ? " cc-message-" + kind : "");
  };

  Canvas.prototype.refused = function (why) { this.message("Not connected: " + why, "error"); };

  Canvas.prototype.changed = function (what) {
    const self = this;
    if (this.saveButton) {
      this.saveButton.textContent = this.model.dirty ? "Save*" : "Save";
      this.undoButton.disabled = !this.model.past.length;
      this.redoButton.disabled = !this.model.future.length;
    }
    this.view.selected = this.view.selected.filter(function (k) { return self.model.activity(k); });
    this.view.render();
    if (["undo", "redo", "reset", "rename"].indexOf(what) >= 0) this.selected(this.view.selected, null);
    // The automatic layout again (for its routes) once the edits pause: a large campaign's
    // takes most of a second (bench/canvas_layout.py); redraw only when an edge now follows it.
    window.clearTimeout(this.relayout);
    this.relayout = window.setTimeout(function () {
      self.view.layout().then(function () {
        if (self.model.doc.activities.some(function (a) { return self.view.atAuto(a); })) self.view.render();
      });
    }, 400);
  };

  Canvas.prototype.selected = function (ids, edge) {
    const self = this, side = this.side;
    side.textContent = "";
    side.hidden = false;
    side.appendChild(h("button", {type: "button", class: "cc-close cc-side-close", "aria-label": "Close the panel", title: "Close", text: "\u00d7", onclick: function () { self.view.select([]); }}));
    const box = h("div", {class: "cc-side-body"});
    side.appendChild(box);
    this.panel = null;
    if (edge && this.runs.data) this.runs.rows(edge);
    if (ids.length === 1) {
      const a = this.model.activity(ids[0]);
      if (!a) return;
      this.view.reveal(a.id, side.offsetWidth);
      this.panel = CC.panel(box, this.model, a, {
        editable: this.editable, errors: this.errors[a.id] || [], urls: this.config.urls,
        choices: this.config.choices || {}, runBox: this.runs.activityBox(a.id),
        beforePreview: function () { return self.saveIfDirty(); },
        onRename: function (id) { self.view.selected = [id]; self.selected([id], null); },
      });
      return;
    }
    if (ids.length > 1) {
      side.hidden = true;
      this.message(ids.length + " activities selected" + (this.editable ? ": drag one to move them all, Delete removes them, Ctrl+C copies them." : "."));
      return;
    }
    if (edge) {
      const from = this.model.activity(edge.from), to = this.model.activity(edge.to);
      box.appendChild(h("h3", {text: "Transition"}));
      box.appendChild(h("p", {text: this.model.title(from) + " \u203a " + edge.port + " \u2192 " + this.model.title(to)}));
      if (this.editable) box.appendChild(h("p", {class: "help", text: "Delete removes it."}));
      if (!this.runs.data) box.appendChild(h("p", {class: "help", text: "After a run, a click on a transition shows its rows."}));
      return;
    }
    side.hidden = true;
  };

  Canvas.prototype.tips = function () {
    const tips = this.editable
      ? ["Drag a kind from the palette onto the graph.", "Drag from an output port (right of a box) onto another activity to connect them.",
         "Click an activity to set its options; double-click it to edit its label.", "Shift-click or shift-drag to select several; Delete, Ctrl+Z, Ctrl+Y, Ctrl+C, Ctrl+V.",
         "Drag the background to pan, the wheel zooms, Fit shows everything."]
      : ["Click an activity for its options and its run.", "Click a transition for the rows that took it.", "Drag the background to pan, the wheel zooms, Fit shows everything."];
    return h("details", {class: "cc-tips"}, [h("summary", {text: "How to use the canvas"}), h("ul", {}, tips.map(function (t) { return h("li", {text: t}); }))]);
  };

  Canvas.prototype.editLabel = function (key) {
    const self = this;
    this.view.editLabel(key, function (label) {
      self.model.change("label", function () { const a = this.activity(key); if (a) a.label = label; });
      self.selected(self.view.selected, null);
    });
  };

  Canvas.prototype.remove = function () {
    const view = this.view, ids = view.selected.slice(), edgeKey = view.selectedEdge;
    if (ids.length) {
      this.model.change("delete", function () { this.remove(ids); });
      view.select([]);
      this.message(ids.length === 1 ? ids[0] + " deleted (Undo brings it back)." : ids.length + " activities deleted (Undo brings them back).");
    } else if (edgeKey) {
      const parts = edgeKey.split("\u0000");
      this.model.change("delete", function () { this.removeTransition({from: parts[0], port: parts[1], to: parts[2]}); });
      view.select([]);
      this.message("Transition deleted.");
    }
  };

  Canvas.prototype.copy = function () {
    if (!this.view.selected.length) return;
    CC.clipboard = this.model.copy(this.view.selected);
    CC.pasted = 0;
    this.message(CC.clipboard.activities.length + " copied.");
  };

  Canvas.prototype.paste = function () {
    if (!CC.clipboard || !CC.clipboard.activities.length) { this.message("Nothing copied yet."); return; }
    const clip = CC.clipboard, n = (CC.pasted = (CC.pasted || 0) + 1);
    const ids = this.model.change("paste", function () { return this.paste(clip, [40 * n, 40 * n]); });
    this.view.select(ids);
    this.message(ids.length + " pasted.");
  };

  Canvas.prototype.tidy = function () {
    const view = this.view, self = this;
    view.layout().then(function () {
      self.model.change("tidy", function () { view.applyLayout(true); });
      view.render();
      view.fit();
    });
  };

  Canvas.prototype.showErrors = function () {
    const self = this, box = this.errorList, keys = Object.keys(this.errors);
    box.textContent = "";
    if (!keys.length) { box.appendChild(h("p", {class: "cc-valid", text: "No validation errors."})); return; }
    const list = h("ul", {class: "cc-error-list errorlist"});
    keys.forEach(function (key) {
      self.errors[key].forEach(function (m) {
        const a = key ? self.model.activity(key) : null;
        const li = h("li", {"data-key": key, tabindex: "0", text: (a ? self.model.title(a) + ": " : "") + m});
        if (key && self.model.activity(key)) li.addEventListener("click", function () { self.view.select([key]); });
        list.appendChild(li);
      });
    });
    box.appendChild(h("p", {class: "cc-errors-head", text: "To fix before a test run or publishing (click one to select its activity):"}));
    box.appendChild(list);
  };

  Canvas.prototype.save = function () {
    const self = this;
    this.message("Saving\u2026");
    return CC.post(this.config.urls.save, {definition: this.model.doc}).then(function (r) {
      if (!r.ok) { self.message("Not saved: " + CC.problems(r.data), "error"); return false; }
      self.errors = r.data.errors || {};
      self.view.errors = self.errors;
      self.model.reset(r.data.definition);
      self.showErrors();
      const n = Object.keys(self.errors).reduce(function (s, k) { return s + self.errors[k].length; }, 0);
      self.message(n ? "Saved as a draft; " + n + " problem" + (n > 1 ? "s" : "") + " to fix (marked ! on the activities)." : "Saved." + (r.data.status_note ? " " + r.data.status_note : ""), n ? "warning" : "success");
      return true;
    }, function () { self.message("Not saved: the server did not answer.", "error"); return false; });
  };

  Canvas.prototype.saveIfDirty = function () {
    if (!this.editable || !this.model.dirty) return Promise.resolve(true);
    return this.save();
  };

  Canvas.prototype.keys = function (e) {
    if (e.target.closest("input, textarea, select, [contenteditable]")) return;
    const ctrl = e.ctrlKey || e.metaKey, key = e.key.toLowerCase();
    if (key === "escape") { this.view.select([]); return; }
    if (ctrl && key === "a") { e.preventDefault(); this.view.select(this.model.doc.activities.map(function (a) { return a.id; })); return; }
    if (!this.editable) return;
    if (key === "delete" || key === "backspace") { e.preventDefault(); this.remove(); }
    else if (ctrl && (key === "y" || (key === "z" && e.shiftKey))) { e.preventDefault(); this.model.redo(); }
    else if (ctrl && key === "z") { e.preventDefault(); this.model.undo(); }
    else if (ctrl && key === "c") { e.preventDefault(); this.copy(); }
    else if (ctrl && key === "v") { e.preventDefault(); this.paste(); }
    else if (ctrl && key === "s") { e.preventDefault(); this.save(); }
  };

  function start(host) {
    if (host._canvas) return;
    host._canvas = true;
    const config = JSON.parse(document.getElementById(host.dataset.config).textContent);
    CC.get(config.urls.kinds).then(function (r) {
      const canvas = new Canvas(host, config, r.ok ? r.data.kinds : []);
      host._canvas = canvas;
      canvas.view.viewport.addEventListener("keydown", function (e) { canvas.keys(e); });
      if (!r.ok) canvas.message("The activity kinds could not be read: " + CC.problems(r.data), "error");
    });
  }

  CC.Canvas = Canvas;
  CC.startAll = function () { document.querySelectorAll("div.campaign-canvas").forEach(start); };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", CC.startAll);
  else CC.startAll();
})(window.CampaignCanvas = window.CampaignCanvas || {});
