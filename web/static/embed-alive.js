/* Loaded by every vggo app page (go-app's Scripts). In the widget's frame
 * it tells the host page's embed.js at once, before the app has loaded,
 * that the frame holds the vggo page and not the browser's error page of
 * a blocked or unreachable frame. The message carries nothing. */
if (window.parent !== window && location.pathname === "/embed") {
  window.parent.postMessage({ vggo: "alive" }, "*");
}
