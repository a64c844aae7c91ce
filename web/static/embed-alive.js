/* Loaded by every vggo app page (go-app's Scripts). In the widget's frame
 * it tells the host page's embed.js, before the app has loaded, that the
 * frame holds the vggo page and not the browser's error page of a blocked
 * or unreachable frame: an "alive" hello at once and each second until the
 * app runs (the Embed page sets window.vggoStarted), so the host can tell a
 * frame still loading from a dead one; and "failed" if the app's
 * WebAssembly did not load (go-app only shows that inside the frame). The
 * messages carry nothing, since the host's origin is not known yet. */
if (window.parent !== window && location.pathname === "/embed") {
  const hello = (kind) => window.parent.postMessage({ vggo: kind }, "*");
  hello("alive");
  const beat = setInterval(() => (window.vggoStarted ? clearInterval(beat) : hello("alive")), 1000);
  const instantiate = WebAssembly.instantiateStreaming;
  if (instantiate) {
    WebAssembly.instantiateStreaming = function (...args) {
      const p = instantiate.apply(this, args);
      p.catch(() => {
        clearInterval(beat);
        hello("failed");
      });
      return p;
    };
  }
}
