/* Runs on the canvas (design 12): the latest run's status on each activity and count on each
 * transition, refreshed while it runs; a click on a transition shows its first rows
 * (``GET runs/{id}/transitions/{from}/{port}/records/``), on an activity its attempts, times,
 * note, error and traceback (``canvas/runs/{id}/``); the test run started from the canvas, with
 * a form of the campaign's declared variables and a summary saying what a test run did
 * instead of the real thing (approvals auto-approved, waits skipped, messages not sent).
 *
 *   const runs = new CampaignCanvas.Runs(canvas)   // canvas: {view, model, config, message}
 *   runs.show(runData) / runs.follow(id) / runs.rows(edge) / runs.details(key) / runs.form() */
(function (CC) {
  "use strict";
  const h = function () { return CC.h.apply(null, arguments); };
  const FINAL = ["succeeded", "failed", "cancelled", "stopped"];

  function when(value) {
    if (!value) return "\u2013";
    const d = new Date(value);
    return isNaN(d) ? String(value) : d.toLocaleString(undefined, {dateStyle: "medium", timeStyle: "medium"});
  }

  function Runs(canvas) {
    this.canvas = canvas;
    this.data = null;
    this.timer = null;
  }

  Runs.prototype.url = function (id) { return this.canvas.config.urls.runDetail.replace("{id}", id); };

  Runs.prototype.show = function (data) {
    this.data = data;
    this.canvas.view.setRun(data);
    this.summary();
    if (data && FINAL.indexOf(data.status) < 0) this.poll(data.id);
  };

  Runs.prototype.poll = function (id) {
    const self = this;
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(function () {
      CC.get(self.url(id)).then(function (r) { if (r.ok) self.show(r.data); });
    }, 800);
  };

  Runs.prototype.follow = function (id) {
    const self = this;
    CC.get(this.url(id)).then(function (r) { if (r.ok) self.show(r.data); });
  };

  /* One line per effect: which approvals were auto-approved, which waits skipped... */
  Runs.prototype.summary = function () {
    const box = this.canvas.runBar, data = this.data;
    box.textContent = "";
    if (!data) { box.appendChild(h("span", {class: "help", text: "No run yet: the counts appear here after a test run."})); return; }
    const url = this.canvas.config.urls.runAdmin.replace("{id}", data.id);
    const head = h("p", {class: "cc-run-head"}, [
      (data.test ? "Test run " : "Run "), h("a", {href: url, text: String(data.id)}), ": ",
      h("strong", {class: "cc-run-status cc-status-text-" + data.status, text: data.status}),
      FINAL.indexOf(data.status) < 0 ? " (updating live)" : "",
    ]);
    box.appendChild(head);
    if (data.error) box.appendChild(h("p", {class: "errornote", text: data.error}));
    const effects = {auto_approved: [], wait_skipped: [], other: []}, model = this.canvas.model;
    Object.keys(data.activities || {}).forEach(function (key) {
      const ar = data.activities[key];
      const a = model.activity(key), name = a ? model.title(a) : key;
      if (ar.test_effect && effects[ar.test_effect]) effects[ar.test_effect].push(name);
      else if (ar.note) effects.other.push(name + ": " + ar.note);
    });
    const lines = h("ul", {class: "cc-run-effects"});
    if (effects.auto_approved.length) lines.appendChild(h("li", {class: "cc-effect-approved", text: "Auto-approved (test run, no task created): " + effects.auto_approved.join(", ")}));
    if (effects.wait_skipped.length) lines.appendChild(h("li", {class: "cc-effect-wait", text: "Waits skipped (test run): " + effects.wait_skipped.join(", ")}));
    effects.other.forEach(function (t) { lines.appendChild(h("li", {text: t})); });
    if (data.test && !lines.children.length && FINAL.indexOf(data.status) >= 0) lines.appendChild(h("li", {text: "Nothing was approved or skipped on its behalf."}));
    if (lines.children.length) box.appendChild(lines);
  };

  Runs.prototype.drawer = function (title, body) {
    const d = this.canvas.drawer;
    d.textContent = "";
    d.hidden = false;
    d.appendChild(h("div", {class: "cc-drawer-head"}, [h("h3", {text: title}), h("button", {type: "button", class: "cc-close", "aria-label": "Close", text: "\u00d7", onclick: function () { d.hidden = true; }})]));
    d.appendChild(body);
  };

  /* The first rows of what took a transition in the run drawn. */
  Runs.prototype.rows = function (edge) {
    const self = this, data = this.data, model = this.canvas.model;
    if (!data) return;
    const title = model.title(model.activity(edge.from) || {id: edge.from}) + " \u203a " + edge.port + " \u2192 " + model.title(model.activity(edge.to) || {id: edge.to});
    const body = h("div", {class: "cc-rows", "aria-live": "polite", text: "Loading\u2026"});
    this.drawer(title, body);
    const found = (data.transitions || []).find(function (t) { return t.from === edge.from && t.port === edge.port && t.to === edge.to; });
    if (!found || found.state !== "carried") {
      body.textContent = found && found.state === "nothing" ? "This transition carried nothing in run " + data.id + "." : "Not computed yet in run " + data.id + ".";
      return;
    }
    const url = this.canvas.config.urls.runApi + data.id + "/transitions/" + encodeURIComponent(edge.from) + "/" + encodeURIComponent(edge.port) + "/records/?page_size=20";
    CC.get(url).then(function (r) {
      body.textContent = "";
      if (!r.ok) { body.appendChild(h("p", {class: "errornote", text: r.status === 403 ? "Seeing the rows needs the permission to view records (audiences.view_records)." : CC.problems(r.data)})); return; }
      body.appendChild(h("p", {class: "help", text: r.data.count.toLocaleString("en") + " records took this transition; the first " + r.data.results.length + ":"}));
      const table = h("table", {class: "cc-rows-table"});
      table.appendChild(h("tr", {}, r.data.columns.map(function (c) { return h("th", {text: c}); })));
      r.data.results.forEach(function (row) {
        table.appendChild(h("tr", {}, r.data.columns.map(function (c) { const v = row[c]; return h("td", {text: v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v)}); })));
      });
      body.appendChild(h("div", {class: "cc-rows-scroll"}, [table]));
      self.canvas.message("");
    });
  };

  /* An activity run as a small box: status, attempts, times, counts, note, error, traceback. */
  Runs.prototype.activityBox = function (key) {
    const data = this.data;
    if (!data || !data.activities || !data.activities[key]) return null;
    const ar = data.activities[key];
    const rows = [["status", ar.status], ["attempts", String(ar.attempt)], ["started", when(ar.started_at)], ["finished", when(ar.finished_at)]];
    if (ar.due_at && ar.status === "waiting") rows.push(["due", when(ar.due_at)]);
    Object.keys(ar.counts || {}).forEach(function (port) { rows.push(["count " + port, ar.counts[port] === null ? "\u2013" : String(ar.counts[port])]); });
    const box = h("div", {class: "cc-activity-run"}, [h("h4", {text: (data.test ? "Test run " : "Run ") + data.id})]);
    const table = h("table", {class: "cc-activity-run-table"});
    rows.forEach(function (r) { table.appendChild(h("tr", {}, [h("th", {text: r[0]}), h("td", {text: r[1]})])); });
    box.appendChild(table);
    if (ar.note) box.appendChild(h("p", {class: "cc-note", text: "Note: " + ar.note}));
    if (ar.error) box.appendChild(h("p", {class: "errornote cc-run-error", text: ar.error}));
    if (ar.traceback) box.appendChild(h("details", {}, [h("summary", {text: "Traceback"}), h("pre", {class: "cc-traceback", text: ar.traceback})]));
    if (ar.state && Object.keys(ar.state).length) box.appendChild(h("details", {}, [h("summary", {text: "Log (state kept by the activity)"}), h("pre", {text: JSON.stringify(ar.state, null, 2)})]));
    return box;
  };

  Runs.prototype.details = function (key) {
    const box = this.activityBox(key), model = this.canvas.model, a = model.activity(key);
    if (!box) { this.drawer(a ? model.title(a) : key, h("p", {class: "help", text: "Not run yet."})); return; }
    this.drawer((a ? model.title(a) : key) + " (" + (a ? model.kind(a.type).label : "") + ")", box);
  };

  function typed(variable, raw) {
    if (raw === "") return undefined;
    if (variable.type === "integer") return parseInt(raw, 10);
    if (variable.type === "number" || variable.type === "decimal") return Number(raw);
    if (variable.type === "boolean") return raw === "true";
    return raw;
  }

  /* The test run's form: one typed input per declared variable, with its default. */
  Runs.prototype.form = function () {
    const self = this, canvas = this.canvas, variables = canvas.model.doc.variables || [];
    const fields = variables.map(function (v) {
      const id = "cc-var-" + v.name, def = v["default"] === null || v["default"] === undefined ? "" : String(v["default"]);
      let input;
      if (v.type === "boolean") {
        input = h("select", {id: id, "data-variable": v.name}, [h("option", {value: "", text: "default (" + def + ")"}), h("option", {value: "true", text: "true"}), h("option", {value: "false", text: "false"})]);
      } else {
        const kind = {integer: "number", number: "number", decimal: "number", date: "date", datetime: "datetime-local"}[v.type] || "text";
        input = h("input", {id: id, type: kind, "data-variable": v.name, placeholder: def, value: def});
        if (v.type === "integer") input.step = "1";
      }
      return h("div", {class: "cc-field"}, [h("label", {for: id, text: v.name + " (" + v.type + ")"}), input]);
    });
    const problem = h("p", {class: "errornote", hidden: ""});
    const start = h("button", {type: "button", class: "button default cc-start-test", text: "Start the test run"});
    const body = h("div", {class: "cc-test-form"}, [
      h("p", {class: "help", text: "A test run computes every count of the draft and sends nothing: approvals are approved automatically and waits are skipped (the summary says which)."}),
    ].concat(fields.length ? fields : [h("p", {class: "help", text: "The campaign declares no variables."})], [problem, start]));
    start.addEventListener("click", function () {
      const values = {};
      variables.forEach(function (v) {
        const input = body.querySelector('[data-variable="' + v.name + '"]');
        const value = typed(v, input.value);
        if (value !== undefined) values[v.name] = value;
      });
      start.disabled = true;
      canvas.saveIfDirty().then(function (saved) {
        if (!saved) { start.disabled = false; return null; }
        return CC.post(canvas.config.urls.testRun, {variables: values}).then(function (r) {
          start.disabled = false;
          if (!r.ok) { problem.textContent = CC.problems(r.data); problem.hidden = false; return; }
          canvas.drawer.hidden = true;
          canvas.message("Test run " + r.data.run + " started.", "success");
          self.follow(r.data.run);
        });
      });
    });
    this.drawer("Test run", body);
  };

  CC.Runs = Runs;
})(window.CampaignCanvas = window.CampaignCanvas || {});
