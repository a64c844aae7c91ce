/* vggo embeddable classifier (docs/embed.md). Each
 *   <vggo-classifier model="NAME" top="3" theme="auto"></vggo-classifier>
 * shows the vggo server's /embed page in an iframe, out of the host page's
 * CSS and scripts. Events vggo-ready, vggo-result, vggo-error; method
 * el.classify(blobOrUrl) -> Promise of the vggo-result detail. A frame that
 * does not start (site not allowed, the page's CSP frame-src, server down,
 * app not loading) shows a message, fires vggo-error, rejects classify().
 * postMessage only with the vggo origin (this script's URL) and only with
 * the element's own frame. Under 10 KB: all a host loads before the frame. */
(() => {
  "use strict";
  const me = document.currentScript;
  if (!me || !me.src || customElements.get("vggo-classifier")) return;
  const ORIGIN = new URL(me.src).origin;
  const widgets = new Set();

  // One listener for all widgets: a message counts only from the vggo
  // origin and from the very window of one of our frames.
  window.addEventListener("message", (ev) => {
    if (ev.origin !== ORIGIN) return;
    for (const w of widgets) {
      if (w._owns(ev.source)) {
        w._receive(ev.data);
        return;
      }
    }
  });

  // How long a frame may take to start. Its "alive" hello comes from its
  // head, before its load event.
  const ALIVE_MS = 2500;  // after the load event, with no hello: blocked
  const START_MS = 6000;  // with no hello at all (some blocks fire no load)
  const READY_MS = 30000; // hello, but the app never ready

  // A page whose CSP frame-src leaves out the vggo origin: say so at once.
  document.addEventListener("securitypolicyviolation", (e) => {
    if (e.effectiveDirective !== "frame-src" || !String(e.blockedURI).startsWith(ORIGIN)) return;
    for (const w of widgets) {
      if (w._frame && !w._seen) w._blocked("this page's Content-Security-Policy (frame-src) does not allow " + ORIGIN + ".", true);
    }
  });

  const parse = (s) => {
    try { return JSON.parse(s); } catch (e) { return null; }
  };

  class VggoClassifier extends HTMLElement {
    static get observedAttributes() { return ["model", "top", "theme", "threads", "memory"]; }

    constructor() {
      super();
      this._shadow = this.attachShadow({ mode: "open" });
      this._frame = null;
      this._inited = false;  // init sent: the frame takes our messages
      this._queue = [];      // classify messages waiting for that
      this._pending = new Map(); // id -> {resolve, reject}
      this._nextId = 0;
      this._seen = 0;        // when the frame's last hello came
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
      for (const a of ["threads", "memory"]) if (this.hasAttribute(a)) q.set(a, this.getAttribute(a));
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
      // Each document the frame loads says hello before its load event,
      // unless it is not the widget (an error page, a page it went to).
      const born = Date.now();
      let loaded = 0, before = born, first = 0;
      f.addEventListener("load", () => { before = loaded || born; loaded = Date.now(); });
      const watch = setInterval(() => {
        const now = Date.now(), seen = this._seen;
        if (this._frame !== f || this._inited || this._fatal) return clearInterval(watch);
        if (this._failed) return;
        if (!seen ? now - born > START_MS || (loaded && now - loaded > ALIVE_MS) : loaded && seen < before && now - loaded > ALIVE_MS) {
          this._blocked(ORIGIN + (seen ? " left the widget's page while it started." : " did not answer, or does not let this site embed it (its -embed-origins setting)."));
        } else if (seen && now - (first = first || seen) > READY_MS) {
          this._blocked("the widget from " + ORIGIN + " did not start within " + READY_MS / 1000 + " s.", true);
        }
      }, 250);
      this._frame = f;
      this._shadow.appendChild(f);
    }

    // _blocked: a readable message in place of a frame that did not
    // start, vggo-error, pending classify() calls rejected. Unless fatal,
    // a frame that says hello later (slow network) comes back.
    _blocked(why, fatal) {
      if (this._failed) return;
      const msg = "The image classifier cannot be shown: " + why;
      this._failed = msg;
      this._fatal = !!fatal;
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
      this._seen = 0;
      this._failed = "";
      this._fatal = false;
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
        case "failed":
          this._blocked("its app did not load from " + ORIGIN + ".", true);
          break;
        case "alive":
        case "ready":
          this._seen = Date.now();
          if (this._failed && !this._fatal) {
            this._note.remove();
            this._note = null;
            this._failed = "";
            this._frame.style.display = "block";
          }
          if (d.vggo === "alive" || this._fatal) break;
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
