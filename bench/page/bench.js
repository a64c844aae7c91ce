// Peer benchmark page: runs one engine (query ?engine=vggo|workers|tfjs|ort&threads=N,
// build=simd128|relaxed for workers)
// on VGG16's conv base + global average pool + Dense 10, random weights,
// NHWC for vggo and TensorFlow.js, NCHW for ONNX Runtime (the ONNX file from
// bench/make_onnx.py). The harness awaits window.benchReady, then calls
// window.benchRun(size, batch), which resolves to the milliseconds of one
// forward pass (inputs and weights are made once per shape, outside the
// timing; the result is read back inside it).
'use strict';

(function () {
  const params = new URLSearchParams(location.search);
  const engine = params.get('engine');
  const threads = Number(params.get('threads') || '1');
  const logEl = () => document.getElementById('log');
  function log(s) {
    console.log(s);
    const el = logEl();
    if (el) el.textContent += '\n' + s;
  }

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = src;
      s.onload = resolve;
      s.onerror = () => reject(new Error('cannot load ' + src));
      document.head.appendChild(s);
    });
  }

  // VGG16 conv layers: [cin, cout, pool after].
  const CONVS = [[3, 64, 0], [64, 64, 1], [64, 128, 0], [128, 128, 1], [128, 256, 0], [256, 256, 0], [256, 256, 1],
    [256, 512, 0], [512, 512, 0], [512, 512, 1], [512, 512, 0], [512, 512, 0], [512, 512, 1]];
  const CLASSES = 10;

  function randomArray(n, lim) {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = (2 * Math.random() - 1) * lim;
    return a;
  }

  const engines = {};

  engines.vggo = async function () {
    await loadScript('/wasm_exec.js');
    const go = new Go();
    const res = await WebAssembly.instantiateStreaming(fetch('/build/vggo.wasm'), go.importObject);
    go.run(res.instance); // returns when the program exits; it never does
    for (let i = 0; i < 1000 && !window.vggoReady; i++) await new Promise(r => setTimeout(r, 10));
    if (!window.vggoReady) throw new Error('vggo.wasm did not register vggoRun');
    return {
      version: 'vggo (this checkout), Go wasm SIMD128',
      threads: 1,
      run: async (size, batch) => {
        const ms = window.vggoRun(size, batch);
        if (ms instanceof Error) throw ms;
        return ms;
      },
    };
  };

  // vggo's real inference workers (web/static/worker.js with worker.wasm or,
  // build=relaxed, worker-relaxed.wasm), threads=N of them splitting each
  // forward pass by output channels, exchanging through a SharedArrayBuffer
  // (this page is cross-origin isolated). The same protocol as the app's
  // pool (wasm/protocol/pool.go): pool, bench-load, bench. The time is the
  // leader worker's own measure of the forward pass, as vggoRun's.
  engines.workers = async function () {
    const build = params.get('build') === 'relaxed' ? 'relaxed' : 'simd128';
    const n = threads;
    const pending = new Map(); // id -> {until, resolve, reject}
    let nextId = 1;
    const workers = [];
    const ready = [];
    for (let i = 0; i < n; i++) {
      const w = new Worker('/web/static/worker.js', { name: build });
      ready.push(new Promise((resolve, reject) => {
        w.onerror = (e) => reject(new Error('worker ' + i + ': ' + e.message));
        w.onmessage = (e) => {
          const d = e.data;
          if (d.kind === 'ready') { resolve(); return; }
          const p = pending.get(d.id);
          if (d.kind === 'error' || d.kind === 'shard-failed') {
            const err = new Error('worker ' + i + ': ' + JSON.parse(d.body || '{}').message);
            if (p) { pending.delete(d.id); p.reject(err); } else { reject(err); log(String(err)); }
          } else if (p && d.kind === p.until && (p.left -= 1) === 0) {
            pending.delete(d.id);
            p.resolve(JSON.parse(d.body || 'null'));
          }
        };
      }));
      workers.push(w);
    }
    await Promise.all(ready);
    const mode = n === 1 ? 'single' : (self.crossOriginIsolated ? 'shared' : 'message');
    // Polling before sleeping at each barrier, as the app's pool does
    // (wasm/ui/workerpool.go spins): with the shared exchange, when every
    // worker can have a core; ?spin=1 or 0 overrides.
    const spinParam = params.get('spin');
    const spin = mode === 'shared' && (spinParam === '1' || (spinParam !== '0' && n <= (navigator.hardwareConcurrency || 1)));
    if (n > 1) {
      // protocol.ControlBytes: the barrier's words and the pass a parked
      // follower starts from (TestBenchControlBytes keeps them equal).
      const control = mode === 'shared' ? new SharedArrayBuffer(44) : null;
      const ports = workers.map(() => new Array(n).fill(null));
      for (let i = 0; i < n; i++) {
        for (let j = i + 1; j < n; j++) {
          const ch = new MessageChannel();
          ports[i][j] = ch.port1;
          ports[j][i] = ch.port2;
        }
      }
      workers.forEach((w, i) => w.postMessage({ kind: 'pool', id: 0, body: JSON.stringify({ index: i, count: n, mode, spin }),
        ports: ports[i], control }, ports[i].filter(Boolean)));
    }
    // send posts one request to the given workers and resolves with the
    // body of the last `until` reply once each has sent one.
    const send = (ws, kind, body, until) => new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { until, resolve, reject, left: ws.length });
      for (const w of ws) w.postMessage({ kind, id, body: JSON.stringify(body) });
    });
    let loaded = '';
    return {
      version: 'vggo (this checkout), ' + n + ' Go wasm worker(s), ' + (build === 'relaxed' ? 'relaxed SIMD' : 'SIMD128') +
        ', exchange ' + mode + (spin ? ', polling' : ''),
      threads: n,
      run: async (size, batch) => {
        if (loaded !== String(size)) {
          await send(workers, 'bench-load', { size, widthDiv: 1 }, 'bench-loaded');
          loaded = String(size);
        }
        // As the app's pool does (parkFollowers): the followers wait for
        // the pass on the control buffer, not for the leader's message.
        if (mode === 'shared') {
          const body = JSON.stringify({ sentMillis: performance.timeOrigin + performance.now() });
          for (const w of workers.slice(1)) w.postMessage({ kind: 'park', id: 0, body });
        }
        const row = await send([workers[0]], 'bench', { sizes: [size], widthDiv: 1, warmup: 0, runs: 1, batch }, 'bench-row');
        return row.medianMillis;
      },
    };
  };

  engines.tfjs = async function () {
    const reportedCores = navigator.hardwareConcurrency;
    const defaultThreads = Math.max(1, Math.floor((reportedCores || 2) / 2));
    // The threaded build caps its thread count at half the logical cores it
    // reads from navigator.hardwareConcurrency (emscripten_num_logical_cores),
    // whatever setThreadsCount asked for: on a 2-core machine, 1 thread. To
    // measure more threads, the page reports twice as many cores as threads
    // wanted (the page's info line then shows that number).
    if (threads > defaultThreads) {
      Object.defineProperty(navigator, 'hardwareConcurrency', { get: () => 2 * threads, configurable: true });
    }
    await loadScript('/node_modules/@tensorflow/tfjs-core/dist/tf-core.min.js');
    await loadScript('/node_modules/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js');
    tf.wasm.setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');
    tf.wasm.setThreadsCount(threads);
    if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: wasm backend failed to initialise');
    await tf.ready();
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const mt = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    const weights = CONVS.map(([cin, cout]) => ({
      w: tf.tensor4d(randomArray(9 * cin * cout, Math.sqrt(6 / (9 * cin))), [3, 3, cin, cout]),
      b: tf.zeros([cout]),
    }));
    const dw = tf.tensor2d(randomArray(512 * CLASSES, Math.sqrt(6 / 512)), [512, CLASSES]);
    const db = tf.zeros([CLASSES]);
    const inputs = {};
    const forward = (x) => tf.tidy(() => {
      let h = x;
      CONVS.forEach(([, , pool], i) => {
        h = tf.fused.conv2d({ x: h, filter: weights[i].w, bias: weights[i].b, strides: 1, pad: 'same', activation: 'relu' });
        if (pool) h = tf.maxPool(h, 2, 2, 'valid');
      });
      return tf.add(tf.matMul(tf.mean(h, [1, 2]), dw), db);
    });
    return {
      version: '@tensorflow/tfjs-backend-wasm ' + tf.version_core + ' (simd ' + simd + ', multithread ' + mt +
        ', default threads ' + defaultThreads + ')',
      threads: tf.wasm.getThreadsCount ? tf.wasm.getThreadsCount() : threads,
      run: async (size, batch) => {
        const key = size + 'x' + batch;
        if (!inputs[key]) inputs[key] = tf.tensor4d(randomArray(batch * size * size * 3, 1), [batch, size, size, 3]);
        const t0 = performance.now();
        const y = forward(inputs[key]);
        await y.data();
        const ms = performance.now() - t0;
        y.dispose();
        return ms;
      },
    };
  };

  engines.ort = async function () {
    await loadScript('/node_modules/onnxruntime-web/dist/ort.wasm.min.js');
    ort.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/';
    ort.env.wasm.numThreads = threads;
    ort.env.wasm.proxy = false;
    const session = await ort.InferenceSession.create('/build/vgg16_gap10.onnx',
      { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    const inputs = {};
    return {
      version: 'onnxruntime-web ' + (ort.env.versions && (ort.env.versions.web || ort.env.versions.common)) + ' (wasm EP)',
      threads: ort.env.wasm.numThreads,
      run: async (size, batch) => {
        const key = size + 'x' + batch;
        if (!inputs[key]) {
          inputs[key] = { input: new ort.Tensor('float32', randomArray(batch * 3 * size * size, 1), [batch, 3, size, size]) };
        }
        const t0 = performance.now();
        const out = await session.run(inputs[key]);
        const ms = performance.now() - t0;
        if (out.logits.data.length !== batch * CLASSES) throw new Error('ort: ' + out.logits.data.length + ' outputs');
        return ms;
      },
    };
  };

  window.benchReady = (async () => {
    if (!engines[engine]) throw new Error('unknown engine ' + engine + ': want vggo, workers, tfjs or ort');
    const e = await engines[engine]();
    window.benchRun = e.run;
    const info = {
      engine, threads: e.threads, version: e.version, crossOriginIsolated: self.crossOriginIsolated,
      hardwareConcurrency: navigator.hardwareConcurrency, userAgent: navigator.userAgent,
    };
    log(JSON.stringify(info));
    return info;
  })();
  window.benchReady.catch(e => log('error: ' + e));
})();
