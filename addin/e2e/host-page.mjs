// The page that plays the Office host: the document (or sheet) on the left, drawn from the fake host's in-memory
// state, and the built task pane on the right in an iframe, exactly as Office shows it.

/** HTML for a host page; `state` seeds the fake document, `paneQuery` is appended to the pane's URL. */
export function hostPage(state, paneQuery) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Fake ${state.host} host</title>
<style>
  body { margin: 0; display: flex; height: 100vh; font: 14px "Segoe UI", sans-serif; background: #f3f2f1; }
  #doc { flex: 1; padding: 24px 32px; overflow: auto; background: #fff; margin: 12px; box-shadow: 0 1px 3px #0003; }
  #doc p.selected { background: #cfe4fa; }
  #doc table { border-collapse: collapse; } #doc td, #doc th { border: 1px solid #ccc; padding: 2px 8px; min-width: 60px; }
  #doc td.selected { background: #cfe4fa; }
  #pane { width: 360px; border: 0; border-left: 1px solid #ccc; background: #fff; }
</style>
<script>window.__E2E_STATE__ = ${JSON.stringify(state)};</script>
</head><body>
<div id="doc" aria-label="Document"></div>
<iframe id="pane" title="Switchboard pane" src="/addin/taskpane.html?${paneQuery}"></iframe>
<script>
  const columnName = (i) => { let s = ""; for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s; return s; };
  const escape = (t) => String(t ?? "").replace(/[&<>]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" })[c]);
  function draw() {
    const fake = document.getElementById("pane").contentWindow.__fakeHost;
    if (!fake) return;
    const view = document.getElementById("doc");
    if (fake.host === "Word") {
      const [first, last] = fake.doc.selection;
      view.innerHTML = fake.doc.paragraphs.map((p, i) => '<p class="' + (i >= first && i <= last ? "selected" : "") + '">' + escape(p) + "</p>").join("")
        + (fake.doc.comments.length ? "<hr>" + fake.doc.comments.map((c) => "<p><em>Comment: " + escape(c.text) + "</em></p>").join("") : "");
    } else {
      let html = "<table><tr><th></th>" + [0, 1, 2, 3].map((c) => "<th>" + columnName(c) + "</th>").join("") + "</tr>";
      for (let r = 0; r < 8; r++) {
        html += "<tr><th>" + (r + 1) + "</th>";
        for (let c = 0; c < 4; c++) {
          const cell = fake.cells[columnName(c) + (r + 1)];
          html += "<td>" + escape(cell ? (String(cell.formula).startsWith("=") ? cell.formula : cell.value) : "") + "</td>";
        }
        html += "</tr>";
      }
      view.innerHTML = html + "</table>";
    }
  }
  setInterval(draw, 100);
</script>
</body></html>`;
}
