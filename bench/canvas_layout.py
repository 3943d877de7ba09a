"""The canvas's layout and drawing in Debian's Chromium (design 12): how long elkjs's layered
layout with fixed ports takes, and drawing and fitting after it, for campaigns of 20, 100 and 300
activities (a tree of splits and waits, every transition on a named port). The baseline is the
same layout with the ports left free and no edge labels (elkjs at its simplest), measured in the
same run: the ratio is what the canvas's fixed ports and reserved count labels cost.

    python bench/canvas_layout.py          (make bench runs it too; it needs no database)
"""

import pathlib
import statistics

from playwright.sync_api import sync_playwright

ROOT = pathlib.Path(__file__).resolve().parents[1] / "campaigns" / "static" / "campaigns"
SCRIPTS = [ROOT / "vendor/elkjs/elk.bundled.js", ROOT / "canvas/model.js", ROOT / "canvas/view.js"]
KINDS = [
    {"type": "build_audience", "label": "Build", "group": "targeting", "inputs": "none",
     "ports": ["out", "empty"]},
    {"type": "split", "label": "Split", "group": "targeting", "inputs": "one",
     "ports": ["complement"], "ports_from_options": True},
    {"type": "wait", "label": "Wait", "group": "flow", "inputs": "one", "ports": ["out"]},
]  # fmt: skip
MEASURE = """async ([doc, kinds, simple]) => {
  const host = document.getElementById('h'); host.textContent = '';
  const model = new CampaignCanvas.Model(doc, kinds);
  const view = new CampaignCanvas.View(host, model, {});
  const t0 = performance.now();
  if (simple) {
    const elk = new ELK();
    await elk.layout({id: 'root', layoutOptions: {'elk.algorithm': 'layered', 'elk.direction': 'RIGHT',
      'elk.edgeRouting': 'ORTHOGONAL'}, children: doc.activities.map((a) => ({id: a.id, width: 176, height: 64})),
      edges: doc.transitions.map((t, i) => ({id: 'e' + i, sources: [t.from], targets: [t.to]}))});
    return [performance.now() - t0, 0];
  }
  await view.layout();
  const t1 = performance.now();
  view.applyLayout(true); view.render(); view.fit();
  return [t1 - t0, performance.now() - t1];
}"""


def campaign(n):
    activities = [{"id": "a0", "type": "build_audience", "label": "", "position": None}]
    transitions = []
    for i in range(1, n):
        split = i % 5 == 1
        activities.append(
            {"id": f"a{i}", "type": "split" if split else "wait", "label": "", "position": None,
             "subsets": [{"name": "x"}], "complement": True}
        )  # fmt: skip
        source = activities[(i - 1) // 2 if i % 3 else i - 1]
        port = {"split": "x", "build_audience": "out"}.get(source["type"], "out")
        transitions.append({"from": source["id"], "port": port, "to": f"a{i}"})
    return {"activities": activities, "transitions": transitions}


def main():
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_content('<div id="h" style="width:900px;height:600px;position:relative"></div>')
        for script in SCRIPTS:
            page.add_script_tag(content=script.read_text())
        page.evaluate(MEASURE, [campaign(20), KINDS, False])  # warm the JIT
        print("activities | canvas layout (median of 3) | draw + fit | baseline layout | ratio")
        for n in (20, 100, 300):
            ours = [page.evaluate(MEASURE, [campaign(n), KINDS, False]) for _ in range(3)]
            base = [page.evaluate(MEASURE, [campaign(n), KINDS, True])[0] for _ in range(3)]
            layout = statistics.median(o[0] for o in ours)
            draw = statistics.median(o[1] for o in ours)
            simple = statistics.median(base)
            print(
                f"{n} | {layout:.0f} ms | {draw:.0f} ms | {simple:.0f} ms | {layout / simple:.2f}"
            )
        browser.close()


if __name__ == "__main__":
    main()
