/* Enhances, on page load, every textarea with class ``rule-editor`` or ``condition-editor`` or
 * the attribute ``data-rule-builder``, reading its options from data attributes:
 *
 * - ``data-schema``: the schema's name;
 * - ``data-schema-input``: a CSS selector of the input or select giving it (followed on change),
 *   with ``data-schema-names`` mapping that input's values to names when they are ids;
 * - ``data-schema-option``: an activity form's sibling option naming it (``schema`` reads the
 *   field ``option_schema``), or ``inbound``: the population flowing in, asked of
 *   ``data-context-url`` with the activity's key (the form's ``key`` field), which also gives the
 *   population's columns (``target.ALIAS``) and the campaign's variables;
 * - ``data-live="false"`` turns the live count off;
 * - ``data-rule-key`` (with ``data-rule-noun`` and ``data-rule-mode``): the textarea holds a list
 *   whose items each have a rule under that key (``items.js``). */
(function (RB) {
  "use strict";

  function field(textarea, selector) {
    const form = textarea.form || document;
    return form.querySelector(selector) || document.querySelector(selector);
  }

  function fromInput(textarea, input) {
    const names = textarea.dataset.schemaNames ? JSON.parse(textarea.dataset.schemaNames) : null;
    return function () {
      if (!input || !input.value) return null;
      return names ? names[input.value] || null : input.value;
    };
  }

  function askContext(textarea, builder) {
    const url = textarea.dataset.contextUrl;
    if (!url) return;
    const key = field(textarea, "[name=key]");
    const activity = key ? key.value : "";
    fetch(url + "?activity=" + encodeURIComponent(activity), {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (context) {
        if (!context) return;
        builder.setVariables(context.variables || {});
        builder.setTargets(context.targets || null);
        if (textarea.dataset.schemaOption === "inbound") builder.setSchema(context.schema || null);
        else builder.refresh();
      });
  }

  function options(textarea) {
    const data = textarea.dataset;
    const condition = textarea.classList.contains("condition-editor") || data.ruleMode === "condition";
    const opts = {mode: condition ? "condition" : "rule", live: data.live !== "false" && !condition};
    if (data.schemaOption === "inbound") opts.hint = "Nothing flows into this activity yet: connect an input and save; its fields then appear here.";
    let input = null;
    if (data.schemaInput) input = field(textarea, data.schemaInput);
    else if (data.schemaOption && data.schemaOption !== "inbound") input = field(textarea, "[name=option_" + data.schemaOption + "]");
    if (data.schema) opts.schema = data.schema;
    else if (input) opts.schema = fromInput(textarea, input);
    else opts.schema = null;
    return {opts: opts, input: input};
  }

  function enhance(textarea) {
    if (textarea._ruleBuilder || textarea._ruleItems) return;
    const found = options(textarea);
    const items = textarea.dataset.ruleKey;
    if (items) {
      found.opts.key = items;
      found.opts.noun = textarea.dataset.ruleNoun || "item";
      found.opts.preview = false;
    }
    const builder = items ? RB.attachItems(textarea, found.opts) : RB.attach(textarea, found.opts);
    if (found.input) found.input.addEventListener("change", function () { builder.setSchema(found.opts.schema); });
    askContext(textarea, builder);
  }

  RB.enhanceAll = function (root) {
    (root || document).querySelectorAll("textarea.rule-editor, textarea.condition-editor, textarea[data-rule-builder], textarea[data-rule-key]").forEach(enhance);
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { RB.enhanceAll(); });
  else RB.enhanceAll();
})(window.RuleBuilder = window.RuleBuilder || {});
