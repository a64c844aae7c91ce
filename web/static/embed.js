/* vggo embeddable classifier. A page includes
 *   <script src="https://VGGO-HOST/embed.js" defer></script>
 *   <vggo-classifier model="NAME" top="3" theme="auto"></vggo-classifier>
 * and each element shows the vggo app's compact page (/embed) in an iframe
 * served by the vggo server, so the page's CSS and scripts cannot break it.
 * Events: vggo-ready, vggo-result, vggo-error (detail: see docs/embed.md).
 * A frame the browser blocks (this site not allowed, server down) shows a
 * message in the element, fires vggo-error and rejects classify().
 * Method: el.classify(blobOrUrl) -> Promise of the vggo-result detail.
 * Messages to and from the frames use postMessage, only with the vggo
 * server's origin (taken from this script's own URL) and only with the
 * element's own frame. Kept under 10 KB: it is all a host page loads
 * before the frame. */
(() => {
  "use strict";
  const me = document.currentScript;
  if (!me || !me.src || customElements.get("vggo-classifier")) return;
  const ORIGIN = new URL(me.src).origin;
  const widgets = new Set();

  // One listener for every widget: a message counts only if it comes from
  // the vggo origin and from the very window of one of our frames.
  window.addEventListener("message", (ev) => {
    if (ev.origin !== ORIGIN) return;
    for (const w of widgets) {
      if (w._owns(ev.source)) {
        w._receive(ev.data);
        return;
      }
    }
  });

  // After the frame's load event, how long to wait for its "alive" hello
  // before calling it blocked; the hello comes from a script in the page's
  // head, so it precedes the load event.
  const ALIVE_MS = 2500;

  const parse = (s) => {
    try { return JSON.parse(s); } catch (e) { return null; }
  };

  class VggoClassifier extends HTMLElement {
    static get observedAttributes() { return ["model", "top", "theme", "threads"]; }

    constructor() {
      super();
      this._shadow = this.attachShadow({ mode: "open" });
      this._frame = null;
      this._inited = false;  // init sent: the frame takes our messages
      this._queue = [];      // classify messages waiting for that
      this._pending = new Map(); // id -> {resolve, reject}
      this._nextId = 0;
      this._alive = false;   // the frame holds the vggo page
      this._failed = "";     // why the frame is unusable
      this._note = null;     // the element's own message, if any
    }

    connectedCallback() {
      widgets.add(this);
      if (!this._frame) this._open();
    }

    disconnectedCallback() {
      widgets.delete(this);
      this._close("the widget was removed from the page");
    }

    attributeChangedCallback() {
      if (this._frame) {
        this._close("the widget's settings changed");
        this._open();
      }
    }

    _open() {
      const q = new URLSearchParams();
      q.set("model", this.getAttribute("model") || "");
      q.set("top", this.getAttribute("top") || "");
      q.set("theme", this.getAttribute("theme") || "auto");
      if (this.hasAttribute("threads")) q.set("threads", this.getAttribute("threads")); // inference workers
      const f = document.createElement("iframe");
      f.src = ORIGIN + "/embed?" + q.toString();
      f.title = "Image classifier";
      f.allow = "";
      // The frame checks where init comes from against its referrer: send
      // at least our origin even under a stricter page policy.
      f.referrerPolicy = "origin";
      // CSSOM, not a style attribute or element: allowed by any host CSP.
      const s = f.style;
      s.display = "block";
      s.width = "100%";
      s.minWidth = "220px";
      s.height = "140px";
      s.border = "0";
      s.colorScheme = "normal";
      if (!this.style.display) this.style.display = "block";
      f.addEventListener("load", () => setTimeout(() => {
        if (this._frame === f && !this._alive) this._blocked();
      }, ALIVE_MS));
      this._frame = f;
      this._shadow.appendChild(f);
    }

    // _blocked replaces a frame that did not load the vggo page with a
    // message a visitor can read, and tells the host page's scripts.
    _blocked() {
      const msg = "The image classifier cannot be shown: " + ORIGIN +
        " did not answer, or does not let this site embed it (its -embed-origins setting).";
      this._failed = msg;
      this._frame.style.display = "none";
      const p = document.createElement("p");
      p.setAttribute("role", "alert");
      p.textContent = msg;
      Object.assign(p.style, { margin: "0", padding: ".75rem", border: "1px solid #a4161a", borderRadius: "6px", color: "#a4161a", background: "#fff", font: "14px/1.4 system-ui, sans-serif" });
      this._note = p;
      this._shadow.appendChild(p);
      this._emit("vggo-error", { id: 0, name: "", model: this.getAttribute("model") || "", message: msg });
      for (const [id, p] of this._pending) p.reject(Object.assign(new Error(msg), { detail: { id, message: msg } }));
      this._pending.clear();
      this._queue = [];
    }

    _close(why) {
      if (this._frame) this._frame.remove();
      if (this._note) this._note.remove();
      this._frame = this._note = null;
      this._alive = false;
      this._failed = "";
      this._inited = false;
      this._queue = [];
      for (const p of this._pending.values()) p.reject(new Error(why));
      this._pending.clear();
    }

    _owns(win) {
      return !!this._frame && win !== null && win === this._frame.contentWindow;
    }

    _post(msg) {
      this._frame.contentWindow.postMessage(msg, ORIGIN);
    }

    _emit(type, detail) {
      this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
    }

    _receive(d) {
      if (!d || typeof d !== "object" || typeof d.vggo !== "string") return;
      switch (d.vggo) {
        case "alive":
          this._alive = true;
          break;
        case "ready":
          this._alive = true;
          this._post({ vggo: "init" });
          this._inited = true;
          for (const m of this._queue) this._post(m);
          this._queue = [];
          break;
        case "size":
          if (typeof d.height === "number" && d.height > 0) {
            this._frame.style.height = Math.min(Math.ceil(d.height), 4000) + "px";
          }
          break;
        case "loaded":
          this._emit("vggo-ready", parse(d.detail));
          break;
        case "result":
        case "error": {
          const detail = parse(d.detail);
          if (!detail) return;
          const p = this._pending.get(detail.id);
          if (p) {
            this._pending.delete(detail.id);
            if (d.vggo === "result") p.resolve(detail);
            else p.reject(Object.assign(new Error(detail.message), { detail }));
          }
          this._emit("vggo-" + d.vggo, detail);
          break;
        }
      }
    }

    // classify(blobOrUrl): a Blob or File, or a URL (string or URL object)
    // the host page fetches itself; the frame gets only the bytes. Resolves
    // with the vggo-result detail, rejects with the vggo-error message.
    classify(input, name) {
      const id = ++this._nextId;
      const done = new Promise((resolve, reject) => this._pending.set(id, { resolve, reject }));
      const fail = (msg) => {
        const detail = { id, name: name || "", model: this.getAttribute("model") || "", message: msg };
        const p = this._pending.get(id);
        this._pending.delete(id);
        this._emit("vggo-error", detail);
        if (p) p.reject(Object.assign(new Error(msg), { detail }));
      };
      const send = (blob, n) => {
        if (!this._pending.has(id)) return;
        const m = { vggo: "classify", id, name: n, blob };
        if (this._inited) this._post(m);
        else this._queue.push(m);
      };
      if (!this._frame) {
        fail("the widget is not on the page");
      } else if (this._failed) {
        fail(this._failed);
      } else if (input instanceof Blob) {
        send(input, name || input.name || "image");
      } else if (typeof input === "string" || input instanceof URL) {
        const url = new URL(String(input), document.baseURI);
        const n = name || decodeURIComponent(url.pathname.split("/").pop() || "") || "image";
        fetch(url).then((r) => {
          if (!r.ok) throw new Error("HTTP " + r.status);
          return r.blob();
        }).then((b) => send(b, n), (e) => fail(n + ": cannot fetch " + url.href + " (" + e.message + ")"));
      } else {
        fail("classify() needs a Blob, a File or an image URL");
      }
      return done;
    }
  }

  customElements.define("vggo-classifier", VggoClassifier);
})();
