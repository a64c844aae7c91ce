/* Loaded by every vggo app page (go-app's Scripts). In the widget's frame
 * it tells the host page's embed.js at once, before the app has loaded,
 * that the frame holds the vggo page and not the browser's error page of
 * a blocked or unreachable frame ("alive"), and later if the app's
 * WebAssembly did not load ("failed"; go-app only shows that inside the
 * frame). The messages carry nothing: the host's origin is not known yet. */
if (window.parent !== window && location.pathname === "/embed") {
  const hello = (kind) => window.parent.postMessage({ vggo: kind }, "*");
  hello("alive");
  const instantiate = WebAssembly.instantiateStreaming;
  if (instantiate) {
    WebAssembly.instantiateStreaming = function (...args) {
      const p = instantiate.apply(this, args);
      p.catch(() => hello("failed"));
      return p;
    };
  }
}
