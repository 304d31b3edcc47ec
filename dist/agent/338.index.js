export const id = 338;
export const ids = [338];
export const modules = {

/***/ 61126:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   a: () => (/* binding */ SHA256),
/* harmony export */   h: () => (/* binding */ PackageCache)
/* harmony export */ });
/* harmony import */ var node_crypto__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(77598);
/* harmony import */ var node_crypto__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_crypto__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(73024);
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_1___default = /*#__PURE__*/__webpack_require__.n(node_fs__WEBPACK_IMPORTED_MODULE_1__);
/* harmony import */ var node_fs_promises__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(51455);
/* harmony import */ var node_fs_promises__WEBPACK_IMPORTED_MODULE_2___default = /*#__PURE__*/__webpack_require__.n(node_fs_promises__WEBPACK_IMPORTED_MODULE_2__);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(76760);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_3___default = /*#__PURE__*/__webpack_require__.n(node_path__WEBPACK_IMPORTED_MODULE_3__);
/* harmony import */ var node_stream_promises__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(46466);
/* harmony import */ var node_stream_promises__WEBPACK_IMPORTED_MODULE_4___default = /*#__PURE__*/__webpack_require__.n(node_stream_promises__WEBPACK_IMPORTED_MODULE_4__);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_5__ = __webpack_require__(13281);
/* harmony import */ var _hasher_js__WEBPACK_IMPORTED_MODULE_6__ = __webpack_require__(23449);
// The worker's package cache: content-addressed files `<dir>/<sha256>`, an
// index of sizes and last use (index.json), least-recently-used eviction above
// maxCacheBytes that skips every package a running task has pinned, and one
// download per sha256 however many tasks ask at once (single-flight).







const SHA256 = /^[a-f0-9]{64}$/;
const SAVE_INDEX_MS = 1000;
class PackageCache {
    settings;
    /** Downloads started since the cache opened (a measure for benchmarks and tests). */
    downloads = 0;
    entries = new Map();
    inflight = new Map();
    pins = new Map();
    // The HTTP client is loaded with the first url package: an agent that
    // deploys only uploads, or nothing yet, does not carry it.
    feed = null;
    closing = new AbortController();
    saveTimer = null;
    constructor(settings) {
        this.settings = settings;
    }
    feedClient() {
        this.feed ??= Promise.all(/* import() */[__webpack_require__.e(752), __webpack_require__.e(942)]).then(__webpack_require__.bind(__webpack_require__, 73561)).then(({ HostGuard }) => {
            const guard = new HostGuard(this.settings.allowedHosts);
            const timeouts = {
                headersTimeoutMs: this.settings.stallTimeoutMs,
                bodyTimeoutMs: this.settings.stallTimeoutMs,
            };
            return { guard, dispatcher: guard.dispatcher(timeouts) };
        });
        return this.feed;
    }
    get tmpDir() {
        return (0,node_path__WEBPACK_IMPORTED_MODULE_3__.join)(this.settings.dir, 'tmp');
    }
    pathOf(sha256) {
        return (0,node_path__WEBPACK_IMPORTED_MODULE_3__.join)(this.settings.dir, sha256);
    }
    /** Loads the index and reconciles it with the files (partials of a crash are removed). */
    async open() {
        await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_2__.rm)(this.tmpDir, { recursive: true, force: true });
        await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_2__.mkdir)(this.tmpDir, { recursive: true });
        let saved = {};
        try {
            saved =
                JSON.parse(await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_2__.readFile)((0,node_path__WEBPACK_IMPORTED_MODULE_3__.join)(this.settings.dir, 'index.json'), 'utf8')).entries ?? {};
        }
        catch { }
        for (const name of await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_2__.readdir)(this.settings.dir)) {
            if (!SHA256.test(name))
                continue;
            const info = await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_2__.stat)((0,node_path__WEBPACK_IMPORTED_MODULE_3__.join)(this.settings.dir, name));
            this.entries.set(name, { bytes: info.size, lastUsed: saved[name]?.lastUsed ?? info.mtimeMs });
        }
    }
    has(sha256) {
        return this.entries.has(sha256);
    }
    get totalBytes() {
        let n = 0;
        for (const e of this.entries.values())
            n += e.bytes;
        return n;
    }
    /**
     * Makes a package available in the cache and pins it for `holder` until
     * release(holder). Url packages are downloaded once per sha256 however many
     * callers ask at once; uploaded ones must be here already.
     */
    async acquire(spec, holder, signal, onRetry) {
        const t0 = performance.now();
        this.pin(spec.sha256, holder);
        const done = (bytes, cache) => {
            this.touch(spec.sha256);
            return {
                sha256: spec.sha256,
                path: this.pathOf(spec.sha256),
                bytes,
                seconds: (performance.now() - t0) / 1000,
                cache,
            };
        };
        const cached = this.entries.get(spec.sha256);
        if (cached)
            return done(cached.bytes, 'hit');
        if (spec.source === 'upload') {
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_5__/* .PackageError */ .J('not_uploaded', `package ${spec.name} (sha256 ${spec.sha256}) was not uploaded to this agent, or was evicted from its cache; ` +
                'submit the plan again with flotilla deploy or the action, which upload it');
        }
        let flight = this.inflight.get(spec.sha256);
        const joined = flight !== undefined;
        if (!flight) {
            flight = this.fetch(spec, onRetry).finally(() => this.inflight.delete(spec.sha256));
            this.inflight.set(spec.sha256, flight);
        }
        const bytes = await abortable(flight, signal);
        return done(bytes, joined ? 'joined' : 'miss');
    }
    async fetch(spec, onRetry) {
        if (!spec.url)
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_5__/* .PackageError */ .J('bad_url', `package ${spec.name} has no URL`);
        this.downloads++;
        const part = this.partPath(spec.sha256);
        try {
            const [{ download }, { guard, dispatcher }] = await Promise.all([
                Promise.all(/* import() */[__webpack_require__.e(752), __webpack_require__.e(998)]).then(__webpack_require__.bind(__webpack_require__, 52998)),
                this.feedClient(),
            ]);
            const { bytes } = await download({
                url: spec.url,
                sha256: spec.sha256,
                dest: part,
                maxBytes: Math.min(this.settings.maxPackageBytes, this.settings.maxCacheBytes),
                guard,
                dispatcher,
                attempts: this.settings.attempts,
                backoffMs: this.settings.backoffMs,
                signal: this.closing.signal,
                onRetry,
            });
            await this.admit(spec.sha256, part, bytes);
            return bytes;
        }
        finally {
            await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_2__.rm)(part, { force: true });
        }
    }
    /**
     * Stores an uploaded package, hashing it while it streams to disk; refuses
     * it (and keeps nothing) when its sha256 is not the one claimed.
     */
    async put(sha256, body) {
        const limit = Math.min(this.settings.maxPackageBytes, this.settings.maxCacheBytes);
        const part = this.partPath(sha256);
        const hash = new _hasher_js__WEBPACK_IMPORTED_MODULE_6__/* .Sha256Stream */ .Q();
        let bytes = 0;
        try {
            await (0,node_stream_promises__WEBPACK_IMPORTED_MODULE_4__.pipeline)(body, async function* (source) {
                for await (const chunk of source) {
                    bytes += chunk.length;
                    if (bytes > limit)
                        throw new _errors_js__WEBPACK_IMPORTED_MODULE_5__/* .PackageError */ .J('too_large', `the package is larger than the limit of ${limit} bytes`);
                    await hash.update(chunk);
                    yield chunk;
                }
            }, (0,node_fs__WEBPACK_IMPORTED_MODULE_1__.createWriteStream)(part));
            const actual = await hash.digest();
            if (actual !== sha256) {
                throw new _errors_js__WEBPACK_IMPORTED_MODULE_5__/* .PackageError */ .J('hash_mismatch', `sha256 mismatch: the URL names ${sha256}, the body hashes to ${actual}`);
            }
            if (this.entries.has(sha256)) {
                this.touch(sha256);
                return { created: false, bytes };
            }
            await this.admit(sha256, part, bytes);
            return { created: true, bytes };
        }
        finally {
            await hash.close();
            await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_2__.rm)(part, { force: true });
        }
    }
    partPath(sha256) {
        return (0,node_path__WEBPACK_IMPORTED_MODULE_3__.join)(this.tmpDir, `${sha256}.${(0,node_crypto__WEBPACK_IMPORTED_MODULE_0__.randomBytes)(4).toString('hex')}.part`);
    }
    async admit(sha256, part, bytes) {
        await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_2__.rename)(part, this.pathOf(sha256));
        this.entries.set(sha256, { bytes, lastUsed: Date.now() });
        await this.evict(sha256);
        this.saveLater();
    }
    /** Removes least recently used packages until the cache fits, skipping pinned and new ones. */
    async evict(keep) {
        let total = this.totalBytes;
        if (total <= this.settings.maxCacheBytes)
            return;
        const candidates = [...this.entries]
            .filter(([sha]) => sha !== keep && !this.pins.has(sha) && !this.inflight.has(sha))
            .sort((a, b) => a[1].lastUsed - b[1].lastUsed);
        for (const [sha, entry] of candidates) {
            if (total <= this.settings.maxCacheBytes)
                break;
            this.entries.delete(sha);
            total -= entry.bytes;
            await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_2__.rm)(this.pathOf(sha), { force: true });
        }
    }
    pin(sha256, holder) {
        const set = this.pins.get(sha256) ?? new Set();
        set.add(holder);
        this.pins.set(sha256, set);
    }
    /** Unpins every package `holder` acquired. */
    release(holder) {
        for (const [sha, set] of this.pins) {
            set.delete(holder);
            if (set.size === 0)
                this.pins.delete(sha);
        }
    }
    touch(sha256) {
        const e = this.entries.get(sha256);
        if (e)
            e.lastUsed = Date.now();
        this.saveLater();
    }
    saveLater() {
        this.saveTimer ??= setTimeout(() => void this.save(), SAVE_INDEX_MS);
        this.saveTimer.unref();
    }
    async save() {
        this.saveTimer = null;
        const file = (0,node_path__WEBPACK_IMPORTED_MODULE_3__.join)(this.settings.dir, 'index.json');
        const tmp = `${file}.${(0,node_crypto__WEBPACK_IMPORTED_MODULE_0__.randomBytes)(4).toString('hex')}`;
        await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_2__.writeFile)(tmp, JSON.stringify({ version: 1, entries: Object.fromEntries(this.entries) }));
        await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_2__.rename)(tmp, file);
    }
    async close() {
        if (this.closing.signal.aborted)
            return;
        this.closing.abort();
        if (this.saveTimer)
            clearTimeout(this.saveTimer);
        await this.save().catch(() => { });
        if (this.feed)
            await (await this.feed).dispatcher.close();
    }
}
/** Stops waiting when `signal` aborts; the shared work goes on for the other callers. */
function abortable(p, signal) {
    if (signal.aborted)
        return Promise.reject(new _errors_js__WEBPACK_IMPORTED_MODULE_5__/* .PackageError */ .J('cancelled', 'cancelled'));
    return new Promise((resolve, reject) => {
        const onAbort = () => reject(new _errors_js__WEBPACK_IMPORTED_MODULE_5__/* .PackageError */ .J('cancelled', 'cancelled'));
        signal.addEventListener('abort', onAbort, { once: true });
        p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
}


/***/ }),

/***/ 13281:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   J: () => (/* binding */ PackageError)
/* harmony export */ });
class PackageError extends Error {
    code;
    transient;
    constructor(code, message, transient = false) {
        super(message);
        this.code = code;
        this.transient = transient;
    }
}


/***/ }),

/***/ 23449:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   Q: () => (/* binding */ Sha256Stream)
/* harmony export */ });
/* harmony import */ var node_worker_threads__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(75919);
/* harmony import */ var node_worker_threads__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_worker_threads__WEBPACK_IMPORTED_MODULE_0__);
// sha256 of a stream, computed in a worker thread while the bytes stream to
// disk: hashing costs about as much CPU as receiving and writing together, so
// on a second core it runs alongside them instead of after each chunk, and
// the event loop never spends long in it. At most a few MiB wait for the
// hasher, so a fast feed cannot pile chunks up in memory.

const SOURCE = `
const { parentPort } = require('node:worker_threads');
const hash = require('node:crypto').createHash('sha256');
parentPort.on('message', (m) => {
  if (m === 'digest') return parentPort.postMessage({ digest: hash.digest('hex') });
  hash.update(new Uint8Array(m));
  parentPort.postMessage({ done: m.byteLength });
});`;
const BATCH = 1 << 20;
const MAX_IN_FLIGHT = 8 << 20;
class Sha256Stream {
    // No flags of the process's own (--input-type=module would make SOURCE an ES module).
    worker = new node_worker_threads__WEBPACK_IMPORTED_MODULE_0__.Worker(SOURCE, { eval: true, execArgv: [] });
    batch = [];
    batchBytes = 0;
    inFlight = 0;
    wake = null;
    onDigest = null;
    failed = null;
    constructor() {
        this.worker.on('message', (m) => {
            if (m.digest !== undefined)
                return this.onDigest?.resolve(m.digest);
            this.inFlight -= m.done ?? 0;
            this.wake?.();
        });
        this.worker.on('error', (err) => {
            this.failed = err;
            this.wake?.();
            this.onDigest?.reject(err);
        });
        this.worker.unref();
    }
    /** Resolves once the chunk is queued; waits while too much is in flight. */
    async update(chunk) {
        this.batch.push(chunk);
        this.batchBytes += chunk.length;
        if (this.batchBytes >= BATCH)
            this.send();
        while (this.inFlight > MAX_IN_FLIGHT && !this.failed) {
            await new Promise((resolve) => {
                this.wake = resolve;
            });
            this.wake = null;
        }
        if (this.failed)
            throw this.failed;
    }
    send() {
        if (this.batchBytes === 0)
            return;
        // A copy the worker can own: the chunks may be views into pooled memory.
        const bytes = new Uint8Array(this.batchBytes);
        let at = 0;
        for (const c of this.batch) {
            bytes.set(c, at);
            at += c.length;
        }
        this.inFlight += bytes.byteLength;
        this.batch = [];
        this.batchBytes = 0;
        this.worker.postMessage(bytes.buffer, [bytes.buffer]);
    }
    /** The hex digest of everything given; ends the worker. */
    async digest() {
        this.send();
        const hex = await new Promise((resolve, reject) => {
            if (this.failed)
                return reject(this.failed);
            this.onDigest = { resolve, reject };
            // Held open for the answer: unreferenced, the thread would let a
            // process with nothing else to do exit before it.
            this.worker.ref();
            this.worker.postMessage('digest');
        });
        await this.close();
        return hex;
    }
    async close() {
        await this.worker.terminate();
    }
}


/***/ }),

/***/ 65863:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  A: () => (/* binding */ LocalWorker)
});

// EXTERNAL MODULE: external "node:os"
var external_node_os_ = __webpack_require__(48161);
// EXTERNAL MODULE: external "node:child_process"
var external_node_child_process_ = __webpack_require__(31421);
// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(73024);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(76760);
// EXTERNAL MODULE: external "node:url"
var external_node_url_ = __webpack_require__(73136);
;// CONCATENATED MODULE: ./runner-agent/src/worker/executor.ts
// The agent's side of the executor process (spawner.ts): started on first
// use, stopped after a while without actions, so an idle agent carries no
// second process; restarted if it dies, failing what it was running.




const IDLE_MS = 10_000;
/**
 * Flags for the executor's V8. After each fork, every change to the forking
 * process's page tables (code made executable, say) flushes the TLB of each
 * core its threads ran on; in a virtual machine that is dear. So the executor
 * runs without V8's background threads. It keeps V8's compilers: running its
 * few hot functions interpreted cost more than their compiling saves. Its own
 * CPU per script started, 2,000 `true` scripts 50 at a time, alternated three
 * times on a 2-core VM: 0.75-0.81 ms with --single-threaded alone; 0.96-1.02
 * ms also without the compilers (--no-opt --no-maglev --no-sparkplug);
 * 0.86-1.04 ms with no flags. A fork also copies the page table of every page
 * the process touched: young-generation semi-spaces of 1 MB instead of V8's
 * default leave fewer, and took the executor's CPU per script from 0.56-0.58
 * to 0.53 of the scripts' own (three alternations).
 */
const EXECUTOR_V8_FLAGS = ['--single-threaded', '--max-semi-space-size=1'];
/** spawner.ts next to this file when run from source; dist/agent/spawner/index.js in the bundle. */
function spawnerPath() {
    const here = (0,external_node_path_.dirname)((0,external_node_url_.fileURLToPath)(import.meta.url));
    const bundled = (0,external_node_path_.join)(here, 'spawner', 'index.js');
    return (0,external_node_fs_.existsSync)(bundled) ? bundled : (0,external_node_path_.join)(here, 'spawner.ts');
}
class Executor {
    child = null;
    pending = new Map();
    outbox = [];
    idleTimer = null;
    /** Scripts running in this executor now. */
    get load() {
        return this.pending.size;
    }
    /** Starts the executor process unless it is running. */
    ensure() {
        if (this.idleTimer)
            clearTimeout(this.idleTimer);
        this.idleTimer = null;
        if (this.child)
            return;
        const child = (0,external_node_child_process_.fork)(spawnerPath(), [], {
            stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
            execArgv: EXECUTOR_V8_FLAGS,
        });
        child.on('message', (batch) => {
            for (const msg of batch) {
                const p = this.pending.get(msg.id);
                if (!p)
                    continue;
                if (msg.op === 'line')
                    p.onLine(msg.stream, msg.line);
                else {
                    this.pending.delete(msg.id);
                    p.done(msg.result);
                    this.idleLater();
                }
            }
        });
        child.on('exit', (code, signal) => {
            if (this.child === child)
                this.child = null;
            for (const [id, p] of this.pending) {
                this.pending.delete(id);
                p.done({
                    exitCode: null,
                    reason: 'spawn failed',
                    message: `the executor process ended (${signal ?? `exit code ${code}`})`,
                });
            }
        });
        this.child = child;
    }
    idleLater() {
        if (this.pending.size > 0 || !this.child)
            return;
        this.idleTimer = setTimeout(() => void this.close(), IDLE_MS);
        this.idleTimer.unref();
    }
    run(id, spec, signal, onLine) {
        return new Promise((resolve) => {
            if (signal.aborted)
                return resolve({ exitCode: null, reason: 'cancelled', message: 'cancelled before it started' });
            this.ensure();
            const onAbort = () => this.post({ op: 'cancel', id });
            signal.addEventListener('abort', onAbort, { once: true });
            this.pending.set(id, {
                onLine,
                done: (r) => {
                    signal.removeEventListener('abort', onAbort);
                    resolve(r);
                },
            });
            this.post({ op: 'run', id, run: spec });
        });
    }
    /**
     * Messages go out once the current turn's work is done, in one write:
     * every message wakes the executor (a cross-core wake-up, dear in a
     * virtual machine), and actions often start several at a time.
     */
    post(msg) {
        if (this.outbox.length === 0)
            process.nextTick(() => this.flush());
        this.outbox.push(msg);
    }
    flush() {
        if (this.outbox.length === 0)
            return;
        const batch = this.outbox;
        this.outbox = [];
        this.child?.send(batch);
    }
    /**
     * Resolves once the helper is gone: it stops its scripts and removes its
     * scratch directories first, so nothing it does outlives the agent's stop.
     */
    close() {
        if (this.idleTimer)
            clearTimeout(this.idleTimer);
        this.idleTimer = null;
        this.flush();
        const child = this.child;
        this.child = null;
        // An executor that exited is no longer this.child (see ensure).
        if (!child)
            return Promise.resolve();
        const exited = new Promise((resolve) => child.once('exit', () => resolve()));
        if (child.connected)
            child.disconnect();
        return exited;
    }
}

;// CONCATENATED MODULE: ./runner-agent/src/worker/local.ts
// The agent's own worker: runs actions on this machine.


class LocalWorker {
    name;
    pools;
    targets;
    runningActions = 0;
    opts;
    // Starting a process blocks the starter's event loop for the fork and exec;
    // one executor per core lets those overlap.
    executors = Array.from({ length: Math.max(1, (0,external_node_os_.availableParallelism)()) }, () => new Executor());
    constructor(opts) {
        this.opts = opts;
        this.name = opts.name;
        this.pools = opts.pools;
        this.targets = opts.targets;
    }
    async execute(request, signal, onLine) {
        this.runningActions++;
        try {
            if (request.kind === 'deploy')
                return await this.deploy(request, signal, onLine);
            return await this.script(request, signal, onLine);
        }
        finally {
            this.runningActions--;
        }
    }
    async script(request, signal, onLine) {
        const executor = this.executors.reduce((a, b) => (b.load < a.load ? b : a));
        const r = await executor.run(request.actionId, {
            script: request.script,
            cwd: request.cwd ?? this.opts.workDir,
            scratch: !request.cwd,
            env: request.env,
            timeoutMs: request.timeoutMs,
            killGraceMs: this.opts.killGraceMs,
        }, signal, onLine);
        return {
            ok: r.reason === 'exited' && r.exitCode === 0,
            cancelled: r.reason === 'cancelled',
            exitCode: r.exitCode,
            message: r.message,
        };
    }
    async acquire(spec, holder, signal, onLine) {
        const r = await this.opts.packages.acquire(spec, holder, signal, (attempt, err, delayMs) => onLine(`package ${spec.name}: attempt ${attempt} failed (${err.message}); retrying in ${delayMs} ms`));
        return { ...r, package: spec.name, worker: this.name };
    }
    releasePackages(holder) {
        this.opts.packages.release(holder);
    }
    /** A deploy action: acquire (a cache hit once the task acquired it), install, hooks, switch. */
    async deploy(request, signal, onLine) {
        const deploy = request.deploy;
        if (!deploy || !request.cwd) {
            return {
                ok: false,
                cancelled: false,
                exitCode: null,
                message: 'a deploy action needs a package and a target',
            };
        }
        const deadline = Date.now() + request.timeoutMs;
        const bounded = AbortSignal.any([signal, AbortSignal.timeout(request.timeoutMs)]);
        const say = (line) => onLine('stdout', line);
        try {
            const acquired = await this.acquire(deploy.package, request.actionId, bounded, say);
            // Loaded with the first deploy action (it brings node-tar).
            const { installRelease } = await Promise.all(/* import() */[__webpack_require__.e(697), __webpack_require__.e(115)]).then(__webpack_require__.bind(__webpack_require__, 74115));
            await installRelease({
                archive: acquired.path,
                projectDir: request.cwd,
                release: deploy.release,
                keepReleases: deploy.keepReleases,
                allowSymlinks: deploy.package.allowSymlinks,
                limits: this.opts.extractLimits,
                signal: bounded,
                onLine: say,
                runHook: async (script, cwd) => {
                    const r = await this.script({
                        ...request,
                        kind: 'run',
                        script: `exec bash ./${script}`,
                        cwd,
                        timeoutMs: Math.max(1, deadline - Date.now()),
                    }, signal, onLine);
                    return { ok: r.ok, message: r.message };
                },
            });
            return { ok: true, cancelled: false, exitCode: 0, message: `installed ${deploy.release}` };
        }
        catch (err) {
            const timedOut = !signal.aborted && bounded.aborted;
            return {
                ok: false,
                cancelled: signal.aborted,
                exitCode: null,
                message: timedOut ? `timed out after ${request.timeoutMs} ms` : err.message,
            };
        }
        finally {
            this.opts.packages.release(request.actionId);
        }
    }
    /** Resolves once every executor process is gone. */
    async close() {
        await Promise.all(this.executors.map((e) => e.close()));
    }
}


/***/ })

};
