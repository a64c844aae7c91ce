// The embed demo page's event log: shows what a host page receives.
document.addEventListener("DOMContentLoaded", () => {
  const log = document.getElementById("demo-events");
  const w = document.getElementById("demo-widget");
  if (!log || !w) return;
  const show = (ev) => {
    const d = ev.detail || {};
    let line = ev.type;
    if (ev.type === "vggo-result") {
      line += ": " + d.name + " → " + d.classes.slice(0, 3).map((c) => c.class + " " + (100 * c.prob).toFixed(1) + " %").join(", ") +
        " (" + d.model + ", " + d.timing.totalMillis.toFixed(0) + " ms)";
    } else if (ev.type === "vggo-error") {
      line += ": " + d.message;
    } else {
      line += ": " + d.model + " (" + (d.labels || []).length + " classes)";
    }
    log.textContent = (log.textContent === "(none yet)" ? "" : log.textContent + "\n") + line;
  };
  for (const t of ["vggo-ready", "vggo-result", "vggo-error"]) w.addEventListener(t, show);
});
