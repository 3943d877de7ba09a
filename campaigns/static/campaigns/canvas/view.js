/* The canvas's drawing (design 12): activities as boxes with an input port on the left and their
 * output ports on the right, transitions as orthogonal paths, laid out left to right by elkjs
 * (vendored, ``campaigns/static/campaigns/vendor/elkjs``) with the ports fixed where they are
 * drawn, so that no edge crosses a box. Zoom (wheel, buttons), pan (drag the background), fit,
 * and a minimap. In an editable canvas: boxes are dragged (every selected box moves), ports are
 * connected by dragging from an output port onto an activity, shift-drag selects a rectangle.
 *
 *   const view = new CampaignCanvas.View(element, model, {editable, onSelect, onRefused, onLabel})
 *   view.render() / view.layout(apply) / view.fit() / view.select(ids) / view.setRun(runData)
 *
 * Manual moves are kept: a box sits at its saved ``position``; an edge whose two ends sit where
 * the automatic layout put them follows elkjs's route, any other is routed around from port to
 * port. "Tidy up" applies the automatic layout to every box. */
(function (CC) {
  "use strict";
  const SVG = "http://www.w3.org/2000/svg";
  const W = 176, HEAD = 44, PORT_GAP = 20, LABEL_W = 60, LABEL_H = 18;
  const STATUS_WORDS = {pending: "queued", ready: "ready", running: "running", waiting: "waiting", succeeded: "done", failed: "failed", skipped: "skipped", cancelled: "cancelled"};

  function el(name, attrs, parent) {
    const node = document.createElementNS(SVG, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(node);
    return node;
  }
  function h(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), attrs[k]);
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }
  CC.h = h;
  CC.el = el;
  CC.edgeKey = function (t) { return t.from + "\u0000" + (t.port || "out") + "\u0000" + t.to; };

  function nodeHeight(ports) { return Math.max(64, HEAD + Math.max(ports.length, 1) * PORT_GAP); }
  function portY(i) { return HEAD + PORT_GAP / 2 + i * PORT_GAP - 4; }

  function View(host, model, options) {
    this.host = host;
    this.model = model;
    this.options = options || {};
    this.editable = !!this.options.editable;
    this.selected = [];
    this.selectedEdge = null;
    this.auto = {positions: {}, routes: {}, labels: {}};
    this.run = null;
    this.errors = {};
    this.k = 1; this.tx = 20; this.ty = 20;
    this.viewport = h("div", {class: "cc-viewport", tabindex: "0", "aria-label": "Campaign graph"});
    this.svg = el("svg", {class: "cc-svg campaign-graph", width: "100%", height: "100%"}, this.viewport);
    const defs = el("defs", {}, this.svg);
    const marker = el("marker", {id: "cc-arrow-" + (CC.counter = (CC.counter || 0) + 1), viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto"}, defs);
    el("path", {d: "M0,0 L10,5 L0,10 z", class: "cc-arrowhead"}, marker);
    this.markerId = marker.id;
    this.world = el("g", {class: "cc-world"}, this.svg);
    this.edgeLayer = el("g", {class: "cc-edges"}, this.world);
    this.nodeLayer = el("g", {class: "cc-nodes"}, this.world);
    this.overlay = el("g", {class: "cc-overlay"}, this.world);
    this.minimap = h("div", {class: "cc-minimap", title: "Minimap: click to move there"});
    this.miniSvg = el("svg", {width: "100%", height: "100%"}, this.minimap);
    this.zoomBar = h("div", {class: "cc-zoom"}, [
      h("button", {type: "button", class: "cc-zoom-in", title: "Zoom in", text: "+", onclick: this.zoomBy.bind(this, 1.25)}),
      h("button", {type: "button", class: "cc-zoom-out", title: "Zoom out", text: "\u2212", onclick: this.zoomBy.bind(this, 0.8)}),
      h("button", {type: "button", class: "cc-fit", title: "Fit the whole campaign in view", text: "Fit", onclick: this.fit.bind(this)}),
    ]);
    this.viewport.appendChild(this.zoomBar);
    this.viewport.appendChild(this.minimap);
    host.appendChild(this.viewport);
    this.bind();
  }

  View.prototype.size = function (a) {
    const ports = this.portsOf(a);
    return {w: W, h: nodeHeight(ports)};
  };

  /* The kind's ports plus any port a transition names that the options no longer give. */
  View.prototype.portsOf = function (a) {
    const ports = this.model.ports(a);
    this.model.outbound(a.id).forEach(function (t) {
      const p = t.port || "out";
      if (ports.indexOf(p) < 0) ports.push(p);
    });
    return ports;
  };

  View.prototype.pos = function (a) {
    if (Array.isArray(a.position)) return {x: a.position[0], y: a.position[1]};
    return this.auto.positions[a.id] || {x: 0, y: 0};
  };

  View.prototype.outPort = function (a, port) {
    const p = this.pos(a), i = Math.max(0, this.portsOf(a).indexOf(port));
    return {x: p.x + W, y: p.y + portY(i)};
  };
  View.prototype.inPort = function (a) {
    const p = this.pos(a);
    return {x: p.x, y: p.y + this.size(a).h / 2};
  };

  /* elkjs's layered layout of the whole graph: positions, edge routes and label places. */
  /* The layout, in one row of layers; wrapped into several rows (elkjs's graph wrapping) when one
   * row would have to be drawn smaller than ``WRAP_BELOW`` to fit. Whichever of the two the saved
   * positions came from is kept, whatever the screen now, so that its routes are used. */
  const WRAP_BELOW = 0.4;

  View.prototype.layout = function () {
    const self = this, saved = this.model.doc.activities.some(function (a) { return Array.isArray(a.position); });
    if (!window.ELK) return Promise.resolve(this.auto);
    return this.elkLayout(false).then(function (flat) {
      if (self.matches(flat)) return flat;
      const scale = Math.min(self.viewport.clientWidth / flat.width, self.viewport.clientHeight / flat.height);
      const wrap = scale < WRAP_BELOW && self.model.doc.activities.length >= 8;
      if (!wrap && !saved) return flat;
      return self.elkLayout(true).then(function (rows) { return self.matches(rows) || wrap ? rows : flat; });
    }).then(function (graph) { return self.keep(graph); });
  };

  /* Every saved position is where this layout puts its box. */
  View.prototype.matches = function (out) {
    const at = {};
    out.children.forEach(function (c) { at[c.id] = c; });
    const placed = this.model.doc.activities.filter(function (a) { return Array.isArray(a.position); });
    return placed.length > 0 && placed.every(function (a) {
      const c = at[a.id];
      return c && Math.abs(Math.round(c.x) - a.position[0]) < 1 && Math.abs(Math.round(c.y) - a.position[1]) < 1;
    });
  };

  View.prototype.elkLayout = function (wrap) {
    const self = this, model = this.model;
    const children = model.doc.activities.map(function (a) {
      const size = self.size(a);
      const ports = [{id: a.id + "\u0001in", x: -1, y: size.h / 2 - 1, width: 2, height: 2, layoutOptions: {"elk.port.side": "WEST"}}];
      self.portsOf(a).forEach(function (p, i) {
        ports.push({id: a.id + "\u0001out\u0001" + p, x: W - 1, y: portY(i) - 1, width: 2, height: 2, layoutOptions: {"elk.port.side": "EAST"}});
      });
      return {id: a.id, width: W, height: size.h, ports: ports, layoutOptions: {"elk.portConstraints": "FIXED_POS"}};
    });
    const known = {};
    model.doc.activities.forEach(function (a) { known[a.id] = true; });
    const edges = model.doc.transitions.filter(function (t) { return known[t.from] && known[t.to]; }).map(function (t, i) {
      return {id: "e" + i, key: CC.edgeKey(t), sources: [t.from + "\u0001out\u0001" + (t.port || "out")], targets: [t.to + "\u0001in"],
        labels: [{id: "l" + i, text: "count", width: LABEL_W, height: LABEL_H}]};
    });
    const graph = {id: "root", children: children, edges: edges, layoutOptions: {
      "elk.algorithm": "layered", "elk.direction": "RIGHT", "elk.edgeRouting": "ORTHOGONAL",
      "elk.layered.spacing.nodeNodeBetweenLayers": "56", "elk.spacing.nodeNode": "26",
      "elk.spacing.edgeNode": "22", "elk.spacing.edgeEdge": "12", "elk.layered.spacing.edgeNodeBetweenLayers": "22",
      "elk.spacing.edgeLabel": "4", "elk.edgeLabels.placement": "CENTER",
      "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
      "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF",
      "elk.padding": "[top=20,left=20,bottom=20,right=20]",
      "elk.layered.wrapping.strategy": wrap ? "MULTI_EDGE" : "OFF", "elk.aspectRatio": "1.6"}};
    this.elk = this.elk || new window.ELK();
    return this.elk.layout(graph).then(function (out) { out.edgeKeys = edges.map(function (e) { return e.key; }); return out; });
  };

  /* Keep elkjs's answer: positions, edge routes and label places. */
  View.prototype.keep = function (out) {
    const self = this;
    {
      const auto = {positions: {}, routes: {}, labels: {}};
      out.children.forEach(function (c) { auto.positions[c.id] = {x: Math.round(c.x), y: Math.round(c.y)}; });
      out.edges.forEach(function (e) {
        const key = out.edgeKeys[Number(String(e.id).slice(1))], s = e.sections && e.sections[0];
        if (!s) return;
        auto.routes[key] = [s.startPoint].concat(s.bendPoints || [], [s.endPoint]);
        const l = e.labels && e.labels[0];
        if (l) auto.labels[key] = {x: l.x, y: l.y};
      });
      self.auto = auto;
      return auto;
    }
  };

  /* Give every box the automatic layout's position (positions are saved with the definition). */
  View.prototype.applyLayout = function (all) {
    const auto = this.auto;
    this.model.doc.activities.forEach(function (a) {
      const p = auto.positions[a.id];
      if (p && (all || !Array.isArray(a.position))) a.position = [p.x, p.y];
    });
  };

  View.prototype.atAuto = function (a) {
    const p = this.auto.positions[a.id], q = this.pos(a);
    return p && Math.abs(p.x - q.x) < 1 && Math.abs(p.y - q.y) < 1;
  };

  /* An edge's points: elkjs's route when both ends sit where it laid them, else around. */
  View.prototype.route = function (t) {
    const model = this.model, a = model.activity(t.from), b = model.activity(t.to), key = CC.edgeKey(t);
    if (this.auto.routes[key] && this.atAuto(a) && this.atAuto(b)) return {points: this.auto.routes[key], label: this.auto.labels[key]};
    const s = this.outPort(a, t.port || "out"), e = this.inPort(b);
    let points;
    if (e.x - s.x >= 40) {
      const mid = Math.round(s.x + 20 + ((e.x - 20) - (s.x + 20)) / 2);
      points = [s, {x: mid, y: s.y}, {x: mid, y: e.y}, e];
    } else {
      const below = Math.max(this.pos(a).y + this.size(a).h, this.pos(b).y + this.size(b).h) + 24;
      points = [s, {x: s.x + 20, y: s.y}, {x: s.x + 20, y: below}, {x: e.x - 20, y: below}, {x: e.x - 20, y: e.y}, e];
    }
    let best = null, len = -1;
    for (let i = 0; i + 1 < points.length; i++) {
      const d = Math.abs(points[i + 1].x - points[i].x) + Math.abs(points[i + 1].y - points[i].y);
      if (d > len) { len = d; best = i; }
    }
    const p = points[best], q = points[best + 1];
    return {points: points, label: {x: (p.x + q.x) / 2 - LABEL_W / 2, y: (p.y + q.y) / 2 - LABEL_H - 2}};
  };

  View.prototype.countText = function (t) {
    if (!this.run) return "";
    const found = (this.run.transitions || []).find(function (r) { return r.from === t.from && r.port === (t.port || "out") && r.to === t.to; });
    if (!found || found.state === "pending") return "";
    if (found.state === "nothing") return "\u2013";
    return Number(found.count).toLocaleString("en");
  };

  View.prototype.render = function () {
    const self = this, model = this.model;
    this.edgeLayer.textContent = "";
    this.nodeLayer.textContent = "";
    const known = {};
    model.doc.activities.forEach(function (a) { known[a.id] = true; });
    model.doc.transitions.forEach(function (t) {
      if (!known[t.from] || !known[t.to]) return;
      const r = self.route(t), key = CC.edgeKey(t);
      const g = el("g", {class: "cc-edge edge", "data-from": t.from, "data-port": t.port || "out", "data-to": t.to}, self.edgeLayer);
      if (self.selectedEdge === key) g.classList.add("cc-selected");
      const d = r.points.map(function (p, i) { return (i ? "L" : "M") + p.x + "," + p.y; }).join(" ");
      el("path", {d: d, class: "cc-edge-hit"}, g);
      el("path", {d: d, class: "cc-edge-line", "marker-end": "url(#" + self.markerId + ")"}, g);
      const text = self.countText(t);
      if (text && r.label) {
        const label = el("g", {class: "cc-edge-label", transform: "translate(" + r.label.x + "," + r.label.y + ")"}, g);
        el("rect", {width: LABEL_W, height: LABEL_H, rx: 9}, label);
        const tx = el("text", {x: LABEL_W / 2, y: 13, "text-anchor": "middle"}, label);
        tx.textContent = text;
      }
      const title = el("title", {}, g);
      title.textContent = model.title(model.activity(t.from)) + " \u203a " + (t.port || "out") + " \u2192 " + model.title(model.activity(t.to)) + (text ? ": " + text : "") + (self.run ? " (click for its rows)" : "");
    });
    model.doc.activities.forEach(function (a) { self.drawNode(a); });
    this.drawMinimap();
  };

  View.prototype.drawNode = function (a) {
    const model = this.model, kind = model.kind(a.type), p = this.pos(a), size = this.size(a);
    const status = this.run && this.run.activities && this.run.activities[a.id] ? this.run.activities[a.id].status : "";
    const errors = this.errors[a.id] || [];
    const g = el("g", {class: "cc-node activity cc-group-" + (kind.group || "flow"), "data-key": a.id, transform: "translate(" + p.x + "," + p.y + ")"}, this.nodeLayer);
    if (this.selected.indexOf(a.id) >= 0) g.classList.add("cc-selected");
    if (errors.length) g.classList.add("cc-invalid");
    if (status) g.classList.add("cc-status-" + status);
    el("rect", {class: "cc-box", width: W, height: size.h, rx: 8}, g);
    el("rect", {class: "cc-band", width: 6, height: size.h, rx: 3}, g);
    const title = el("text", {class: "cc-title", x: 14, y: 20}, g);
    title.textContent = clip(model.title(a), this.far ? 14 : 20);
    const sub = el("text", {class: "cc-sub", x: 14, y: 37}, g);
    sub.textContent = clip(kind.label + (a.label ? " \u00b7 " + a.id : ""), 26);
    if (status) {
      const badge = el("g", {class: "cc-status", transform: "translate(" + (W - 8) + ",-8)"}, g);
      const word = STATUS_WORDS[status] || status;
      const wide = word.length * (this.far ? 8 : 6.4) + 12;
      el("rect", {x: -wide, width: wide, height: 16, rx: 8}, badge);
      const t = el("text", {x: -wide / 2, y: 12, "text-anchor": "middle"}, badge);
      t.textContent = word;
    }
    if (errors.length) {
      const mark = el("g", {class: "cc-error-mark", transform: "translate(22," + (size.h - 13) + ")"}, g);
      el("circle", {r: 9}, mark);
      const t = el("text", {y: 4, "text-anchor": "middle"}, mark);
      t.textContent = "!";
    }
    const full = el("title", {}, g);
    full.textContent = model.title(a) + " (" + kind.label + ")" + (status ? ": " + status : "") + (errors.length ? "\n" + errors.join("\n") : "");
    if (kind.inputs !== "none") el("circle", {class: "cc-port cc-port-in", cx: 0, cy: size.h / 2, r: 6, "data-key": a.id}, g);
    const ports = this.portsOf(a), self = this;
    ports.forEach(function (port, i) {
      if (ports.length > 1 || port !== "out") {
        const t = el("text", {class: "cc-port-name", x: W - 12, y: portY(i) + 4, "text-anchor": "end"}, g);
        t.textContent = clip(port, self.far ? 10 : 18);
      }
      const valid = self.model.ports(a).indexOf(port) >= 0;
      el("circle", {class: "cc-port cc-port-out" + (valid ? "" : " cc-port-gone"), cx: W, cy: portY(i), r: 6, "data-key": a.id, "data-port": port}, g);
    });
  };

  function clip(text, n) { text = String(text); return text.length > n ? text.slice(0, n - 1) + "\u2026" : text; }

  View.prototype.bounds = function () {
    const self = this;
    let x1 = Infinity, y1 = Infinity, x2 = -Infinity, y2 = -Infinity;
    this.model.doc.activities.forEach(function (a) {
      const p = self.pos(a), s = self.size(a);
      x1 = Math.min(x1, p.x); y1 = Math.min(y1, p.y);
      x2 = Math.max(x2, p.x + s.w); y2 = Math.max(y2, p.y + s.h);
    });
    this.edgeLayer.querySelectorAll(".cc-edge-line").forEach(function (path) {
      const b = path.getBBox();
      x1 = Math.min(x1, b.x); y1 = Math.min(y1, b.y - LABEL_H - 4);
      x2 = Math.max(x2, b.x + b.width); y2 = Math.max(y2, b.y + b.height + 8);
    });
    if (x1 === Infinity) return {x: 0, y: 0, w: 400, h: 200};
    return {x: x1, y: y1, w: x2 - x1, h: y2 - y1};
  };

  /* Zoomed far out, titles and port names are drawn larger (and shorter) to stay readable. */
  const FAR = 0.6;

  View.prototype.apply = function () {
    const far = this.k < FAR;
    if (far !== !!this.far) {
      this.far = far;
      this.svg.classList.toggle("cc-far", far);
      this.render();
    }
    this.world.setAttribute("transform", "translate(" + this.tx + "," + this.ty + ") scale(" + this.k + ")");
    this.drawViewRect();
  };

  View.prototype.fit = function () {
    const b = this.bounds(), vw = this.viewport.clientWidth, vh = this.viewport.clientHeight;
    const pad = 24, bottom = 44;  // keep clear of the zoom buttons
    const k = Math.min(1.2, (vw - 2 * pad) / Math.max(b.w, 1), (vh - pad - bottom) / Math.max(b.h, 1));
    this.k = Math.max(0.02, k);
    this.tx = (vw - b.w * this.k) / 2 - b.x * this.k;
    this.ty = pad + (vh - pad - bottom - b.h * this.k) / 2 - b.y * this.k;
    this.apply();
  };

  View.prototype.zoomBy = function (factor, cx, cy) {
    if (typeof cx !== "number") { cx = this.viewport.clientWidth / 2; cy = this.viewport.clientHeight / 2; }
    const k = Math.min(3, Math.max(0.02, this.k * factor));
    this.tx = cx - (cx - this.tx) * (k / this.k);
    this.ty = cy - (cy - this.ty) * (k / this.k);
    this.k = k;
    this.apply();
  };

  View.prototype.toWorld = function (clientX, clientY) {
    const r = this.viewport.getBoundingClientRect();
    return {x: (clientX - r.left - this.tx) / this.k, y: (clientY - r.top - this.ty) / this.k};
  };

  View.prototype.drawMinimap = function () {
    const self = this, svg = this.miniSvg, b = this.bounds();
    svg.textContent = "";
    const pad = 40;
    this.miniBox = {x: b.x - pad, y: b.y - pad, w: b.w + 2 * pad, h: b.h + 2 * pad};
    svg.setAttribute("viewBox", [this.miniBox.x, this.miniBox.y, this.miniBox.w, this.miniBox.h].join(" "));
    svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
    this.model.doc.activities.forEach(function (a) {
      const p = self.pos(a), s = self.size(a), kind = self.model.kind(a.type);
      el("rect", {x: p.x, y: p.y, width: s.w, height: s.h, rx: 8, class: "cc-mini-node cc-group-" + (kind.group || "flow")}, svg);
    });
    this.viewRect = el("rect", {class: "cc-mini-view"}, svg);
    this.drawViewRect();
  };

  View.prototype.drawViewRect = function () {
    if (!this.viewRect) return;
    const vw = this.viewport.clientWidth, vh = this.viewport.clientHeight;
    this.viewRect.setAttribute("x", -this.tx / this.k);
    this.viewRect.setAttribute("y", -this.ty / this.k);
    this.viewRect.setAttribute("width", vw / this.k);
    this.viewRect.setAttribute("height", vh / this.k);
    // The minimap only when part of the campaign is out of view.
    const b = this.miniBox, x = -this.tx / this.k, y = -this.ty / this.k, pad = 40;
    const whole = b && x <= b.x + pad && y <= b.y + pad && x + vw / this.k >= b.x + b.w - pad && y + vh / this.k >= b.y + b.h - pad;
    this.minimap.hidden = !!whole;
  };

  /* Pan so that activity ``key`` is in view, left of the ``covered`` px of a side panel. */
  View.prototype.reveal = function (key, covered) {
    const a = this.model.activity(key);
    if (!a) return;
    const p = this.pos(a), s = this.size(a), margin = 24;
    const left = this.tx + p.x * this.k, right = this.tx + (p.x + s.w) * this.k;
    const top = this.ty + p.y * this.k, bottom = this.ty + (p.y + s.h) * this.k;
    const width = this.viewport.clientWidth - (covered || 0), height = this.viewport.clientHeight;
    if (right > width - margin) this.tx -= right - (width - margin);
    if (left < margin) this.tx += margin - left;
    if (bottom > height - margin) this.ty -= bottom - (height - margin);
    if (top < margin) this.ty += margin - top;
    this.apply();
  };

  View.prototype.select = function (ids, edge) {
    this.selected = ids || [];
    this.selectedEdge = edge ? CC.edgeKey(edge) : null;
    this.render();
    if (this.options.onSelect) this.options.onSelect(this.selected.slice(), edge || null);
  };

  View.prototype.setRun = function (run) { this.run = run; this.render(); };
  View.prototype.setErrors = function (errors) { this.errors = errors || {}; this.render(); };

  /* Pointer handling: pan, zoom, select, move, connect, rubber band, minimap. */
  View.prototype.bind = function () {
    const self = this, vp = this.viewport;
    let drag = null;
    vp.addEventListener("wheel", function (e) {
      e.preventDefault();
      const r = vp.getBoundingClientRect();
      self.zoomBy(e.deltaY < 0 ? 1.1 : 1 / 1.1, e.clientX - r.left, e.clientY - r.top);
    }, {passive: false});
    this.minimap.addEventListener("mousedown", function (e) {
      e.stopPropagation();
      const r = self.minimap.getBoundingClientRect(), box = self.miniBox;
      const scale = Math.max(box.w / r.width, box.h / r.height);
      const wx = box.x + (e.clientX - r.left - (r.width - box.w / scale) / 2) * scale;
      const wy = box.y + (e.clientY - r.top - (r.height - box.h / scale) / 2) * scale;
      self.tx = vp.clientWidth / 2 - wx * self.k;
      self.ty = vp.clientHeight / 2 - wy * self.k;
      self.apply();
    });
    vp.addEventListener("mousedown", function (e) {
      if (e.button !== 0 || e.target.closest(".cc-zoom, .cc-minimap, .cc-label-input")) return;
      vp.focus({preventScroll: true});
      const at = self.toWorld(e.clientX, e.clientY);
      const port = e.target.closest(".cc-port-out"), node = e.target.closest(".cc-node"), edge = e.target.closest(".cc-edge");
      if (port && self.editable) {
        drag = {kind: "connect", from: port.dataset.key, port: port.dataset.port, start: self.outPort(self.model.activity(port.dataset.key), port.dataset.port)};
        drag.line = el("path", {class: "cc-connecting"}, self.overlay);
      } else if (node) {
        const key = node.dataset.key;
        if (e.shiftKey || e.ctrlKey || e.metaKey) {
          const i = self.selected.indexOf(key);
          self.select(i >= 0 ? self.selected.filter(function (k) { return k !== key; }) : self.selected.concat([key]));
          return;
        }
        if (self.selected.indexOf(key) < 0) self.select([key]);
        drag = {kind: "move", at: at, moved: false, keys: self.selected.slice()};
      } else if (edge) {
        self.select([], {from: edge.dataset.from, port: edge.dataset.port, to: edge.dataset.to});
        return;
      } else if (e.shiftKey && self.editable) {
        drag = {kind: "band", at: at, rect: el("rect", {class: "cc-band-select"}, self.overlay)};
      } else {
        drag = {kind: "pan", x: e.clientX, y: e.clientY, tx: self.tx, ty: self.ty, moved: false};
      }
      e.preventDefault();
    });
    window.addEventListener("mousemove", function (e) {
      if (!drag) return;
      const at = self.toWorld(e.clientX, e.clientY);
      if (drag.kind === "pan") {
        self.tx = drag.tx + e.clientX - drag.x; self.ty = drag.ty + e.clientY - drag.y;
        drag.moved = drag.moved || Math.abs(e.clientX - drag.x) + Math.abs(e.clientY - drag.y) > 3;
        self.apply();
      } else if (drag.kind === "connect") {
        const s = drag.start;
        drag.line.setAttribute("d", "M" + s.x + "," + s.y + " C" + (s.x + 60) + "," + s.y + " " + (at.x - 60) + "," + at.y + " " + at.x + "," + at.y);
      } else if (drag.kind === "move" && self.editable) {
        const dx = at.x - drag.at.x, dy = at.y - drag.at.y;
        if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 3) return;
        if (!drag.moved) { drag.moved = true; drag.before = self.model.snapshot(); }
        drag.at = at;
        drag.keys.forEach(function (key) {
          const a = self.model.activity(key), p = self.pos(a);
          a.position = [Math.round(p.x + dx), Math.round(p.y + dy)];
        });
        self.render();
      } else if (drag.kind === "band") {
        const x = Math.min(at.x, drag.at.x), y = Math.min(at.y, drag.at.y);
        drag.box = {x: x, y: y, w: Math.abs(at.x - drag.at.x), h: Math.abs(at.y - drag.at.y)};
        ["x", "y"].forEach(function (k) { drag.rect.setAttribute(k, drag.box[k]); });
        drag.rect.setAttribute("width", drag.box.w); drag.rect.setAttribute("height", drag.box.h);
      }
    });
    window.addEventListener("mouseup", function (e) {
      if (!drag) return;
      const done = drag;
      drag = null;
      if (done.kind === "connect") {
        done.line.remove();
        const target = document.elementFromPoint(e.clientX, e.clientY);
        const node = target && target.closest ? target.closest(".cc-node") : null;
        if (!node || !self.viewport.contains(node)) {
          if (self.options.onRefused) self.options.onRefused("Drop the connection on an activity's box.");
          return;
        }
        const why = self.model.refusal(done.from, done.port, node.dataset.key);
        if (why) { if (self.options.onRefused) self.options.onRefused(why); return; }
        self.model.change("connect", function () { this.connect(done.from, done.port, node.dataset.key); });
      } else if (done.kind === "move" && done.moved) {
        const after = self.model.snapshot();
        self.model.doc = JSON.parse(done.before);
        self.model.change("move", function () { this.doc = JSON.parse(after); });
      } else if (done.kind === "band") {
        done.rect.remove();
        const box = done.box;
        if (!box) return;
        const keys = self.model.doc.activities.filter(function (a) {
          const p = self.pos(a), s = self.size(a);
          return p.x < box.x + box.w && p.x + s.w > box.x && p.y < box.y + box.h && p.y + s.h > box.y;
        }).map(function (a) { return a.id; });
        self.select(keys);
      } else if (done.kind === "pan" && !done.moved) {
        self.select([]);
      }
    });
    vp.addEventListener("dblclick", function (e) {
      const node = e.target.closest(".cc-node");
      if (node && self.editable && self.options.onLabel) self.options.onLabel(node.dataset.key);
    });
  };

  /* An input over a box's title, to edit its label in place. */
  View.prototype.editLabel = function (key, commit) {
    const a = this.model.activity(key), p = this.pos(a);
    const input = h("input", {type: "text", class: "cc-label-input", value: a.label || "", placeholder: a.id, "aria-label": "Label of " + a.id, maxlength: "200"});
    input.style.left = (this.tx + (p.x + 10) * this.k) + "px";
    input.style.top = (this.ty + (p.y + 5) * this.k) + "px";
    input.style.width = ((W - 20) * this.k) + "px";
    this.viewport.appendChild(input);
    input.focus();
    input.select();
    let closed = false;
    function close(save) {
      if (closed) return;
      closed = true;
      input.remove();
      if (save) commit(input.value.trim());
    }
    input.addEventListener("keydown", function (e) {
      e.stopPropagation();
      if (e.key === "Enter") { e.preventDefault(); close(true); }
      if (e.key === "Escape") { e.preventDefault(); close(false); }
    });
    input.addEventListener("blur", function () { close(true); });
  };

  CC.View = View;
  CC.NODE_WIDTH = W;
})(window.CampaignCanvas = window.CampaignCanvas || {});
