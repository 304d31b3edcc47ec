export const id = 199;
export const ids = [199];
export const modules = {

/***/ 88323:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   $: () => (/* binding */ cliLogger)
/* harmony export */ });
/* unused harmony export readable */
/* harmony import */ var pino__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(65005);
/* harmony import */ var pino__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(pino__WEBPACK_IMPORTED_MODULE_0__);
// The log of `flotilla agent` and `flotilla worker`: pino's JSON lines for a
// log collector, or, on a terminal, one line a person reads at a glance.

const LEVELS = {
    10: 'TRACE',
    20: 'DEBUG',
    30: 'INFO',
    40: 'WARN',
    50: 'ERROR',
    60: 'FATAL',
};
function cliLogger() {
    const level = process.env.FLOTILLA_LOG_LEVEL ?? 'info';
    if (!process.stdout.isTTY || process.env.FLOTILLA_LOG_FORMAT === 'json')
        return pino__WEBPACK_IMPORTED_MODULE_0___default()({ level });
    return pino__WEBPACK_IMPORTED_MODULE_0___default()({ level }, { write: (line) => process.stdout.write(readable(line)) });
}
/** `16:18:15 INFO agent ready url=http://127.0.0.1:8420 taskCap=5` from one of pino's JSON lines. */
function readable(json) {
    const { level, time, msg, pid: _pid, hostname: _host, err, ...fields } = JSON.parse(json);
    const parts = [new Date(time).toTimeString().slice(0, 8), LEVELS[level] ?? String(level), msg ?? ''];
    for (const [k, v] of Object.entries(fields))
        parts.push(`${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
    // An error says what happened; its stack stays in the JSON format, for whoever debugs the agent.
    if (err)
        parts.push(`error=${typeof err === 'string' ? err : (err.message ?? JSON.stringify(err))}`);
    return `${parts.filter(Boolean).join(' ')}\n`;
}


/***/ }),

/***/ 7199:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  resolveWorkerSettings: () => (/* binding */ resolveWorkerSettings),
  workerCommand: () => (/* binding */ workerCommand)
});

// EXTERNAL MODULE: external "node:os"
var external_node_os_ = __webpack_require__(48161);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(76760);
// EXTERNAL MODULE: ./src/plan/index.ts + 9 modules
var plan = __webpack_require__(91816);
// EXTERNAL MODULE: ./runner-agent/src/config/load.ts
var load = __webpack_require__(49211);
// EXTERNAL MODULE: ./runner-agent/src/config/settings.ts
var settings = __webpack_require__(18950);
// EXTERNAL MODULE: ./node_modules/undici/index.js
var undici = __webpack_require__(24371);
// EXTERNAL MODULE: ./runner-agent/src/packages/cache.ts
var cache = __webpack_require__(61126);
// EXTERNAL MODULE: ./runner-agent/src/worker/local.ts + 1 modules
var local = __webpack_require__(65863);
;// CONCATENATED MODULE: ./runner-agent/src/worker/serve.ts
// `flotilla worker`'s loop on a self-hosted runner: register with the
// coordinator, long-poll for jobs, run them with the same LocalWorker the
// agent uses (executors, package cache, installs), stream log lines back in
// batches and post results with the registration's epoch. A poll answered
// 404 or 409 (the coordinator restarted, or declared this worker lost) means
// register again; what ran under the old epoch is stopped, since the
// coordinator already failed it as `worker lost`.




/** Refusals that retrying cannot fix (bad token, wrong scope, a clash of names). */
class WorkerRefused extends Error {
}
class Unregistered extends Error {
}
const LOG_FLUSH_MS = 200;
const LOG_BATCH = 500;
class RemoteWorkerProcess {
    s;
    log;
    http = new undici/* Agent */.g6({ keepAliveTimeout: 30_000, headersTimeout: 0, bodyTimeout: 0 });
    cache;
    local;
    running = new Map();
    uploads = new Map();
    stopping = new AbortController();
    /** Jobs taken and not yet answered (their result posted). */
    inflight = new Set();
    draining = false;
    /** The poll that told the coordinator of the drain; jobs it brings still run. */
    told = Promise.resolve();
    stopped;
    epoch = 0;
    pollMs = 20_000;
    constructor(settings, log) {
        this.s = settings;
        this.log = log;
        this.cache = new cache/* PackageCache */.h(settings.packages);
        this.local = new local/* LocalWorker */.A({
            name: settings.name,
            pools: settings.pools,
            targets: settings.targets,
            workDir: (0,external_node_path_.join)(settings.dataDir, 'work'),
            killGraceMs: settings.killGraceMs,
            packages: this.cache,
        });
    }
    async call(method, path, body, timeoutMs = 30_000) {
        const res = await (0,undici/* request */.Em)(new URL(path, this.s.coordinator), {
            method,
            dispatcher: this.http,
            headers: {
                ...(this.s.token ? { authorization: `Bearer ${this.s.token}` } : {}),
                ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            },
            body: body === undefined ? undefined : JSON.stringify(body),
            signal: AbortSignal.any([this.stopping.signal, AbortSignal.timeout(timeoutMs)]),
        });
        const text = await res.body.text();
        let json = null;
        try {
            json = text ? JSON.parse(text) : null;
        }
        catch { }
        if (res.statusCode === 401 || res.statusCode === 403 || res.statusCode === 400) {
            throw new WorkerRefused(`${method} ${path}: ${res.statusCode} ${errorText(json, text)}`);
        }
        if (res.statusCode === 404 || res.statusCode === 409)
            throw new Unregistered(errorText(json, text));
        if (res.statusCode >= 300)
            throw new Error(`${method} ${path}: ${res.statusCode} ${errorText(json, text)}`);
        return json;
    }
    /**
     * Runs until stop(), or once drained; rejects with WorkerRefused when the
     * coordinator will never take this worker.
     */
    async run() {
        await this.cache.open();
        await this.register();
        while (!this.stopping.signal.aborted) {
            if (this.draining) {
                await this.told;
                if (this.inflight.size === 0)
                    break;
            }
            try {
                await this.poll();
            }
            catch (err) {
                if (this.stopping.signal.aborted)
                    break;
                if (err instanceof WorkerRefused)
                    throw err;
                if (err instanceof Unregistered) {
                    // The coordinator gave this registration's jobs up already; a
                    // draining worker then has nothing left to finish.
                    for (const c of this.running.values())
                        c.abort();
                    if (this.draining)
                        break;
                    this.log.warn({ reason: err.message }, 'registering again');
                    await this.register();
                    continue;
                }
                this.log.warn({ err: err.message }, 'coordinator unreachable; retrying');
                await sleep(500, this.stopping.signal);
            }
        }
    }
    /** One long poll: cancellations and new jobs. */
    async poll() {
        const answer = await this.call('POST', `/v1/workers/${this.s.name}/poll`, { epoch: this.epoch, ...(this.draining ? { draining: true } : {}) }, this.pollMs + 10_000);
        for (const id of answer.cancel)
            this.running.get(id)?.abort();
        for (const job of answer.jobs) {
            // Jobs given before the coordinator heard of a drain still run.
            const p = this.runJob(job, this.epoch).finally(() => this.inflight.delete(p));
            this.inflight.add(p);
        }
    }
    /**
     * SIGTERM: take nothing new, finish the jobs taken, then run() returns. The
     * coordinator hears of it at once: this poll replaces the one it holds.
     */
    drain() {
        if (this.draining)
            return;
        this.draining = true;
        this.told = this.poll().catch(() => { });
    }
    async register() {
        for (let delay = 200; !this.stopping.signal.aborted; delay = Math.min(delay * 2, 5000)) {
            try {
                const r = await this.call('POST', '/v1/workers', {
                    name: this.s.name,
                    pools: this.s.pools,
                    targets: this.s.targets,
                    maxActions: this.s.maxActions,
                });
                this.epoch = r.epoch;
                this.pollMs = r.pollMs;
                this.log.info({
                    name: this.s.name,
                    epoch: r.epoch,
                    coordinator: this.s.coordinator,
                    targets: this.s.targets.length,
                }, 'worker registered');
                return;
            }
            catch (err) {
                if (err instanceof WorkerRefused)
                    throw err;
                if (err instanceof Unregistered)
                    throw new WorkerRefused(`registration refused: ${err.message}`);
                this.log.warn({ err: err.message }, 'could not register; retrying');
                await sleep(delay, this.stopping.signal);
            }
        }
    }
    async runJob(job, epoch) {
        if (job.type === 'release') {
            this.local.releasePackages(job.holder);
            return;
        }
        const abort = new AbortController();
        this.running.set(job.id, abort);
        const lines = new LineBatcher((batch) => this.call('POST', `/v1/workers/${this.s.name}/jobs/${job.id}/log`, { epoch, lines: batch }));
        let result;
        try {
            if (job.type === 'action') {
                if (job.request.deploy)
                    await this.ensureUploaded(job.request.deploy.package);
                result = await this.local.execute(job.request, abort.signal, (stream, line) => lines.add(stream, line));
            }
            else {
                await this.ensureUploaded(job.spec);
                const r = await this.local.acquire(job.spec, job.holder, abort.signal, (line) => lines.add('stdout', line));
                result = {
                    acquired: { sha256: r.sha256, path: r.path, bytes: r.bytes, seconds: r.seconds, cache: r.cache },
                };
            }
        }
        catch (err) {
            result = { error: err.message };
        }
        finally {
            this.running.delete(job.id);
        }
        await lines.close();
        await this.post(job.id, epoch, result);
    }
    /** A result matters (the task waits on it): retried while the coordinator is unreachable. */
    async post(jobId, epoch, result) {
        for (let attempt = 1; attempt <= 10 && !this.stopping.signal.aborted; attempt++) {
            try {
                await this.call('POST', `/v1/workers/${this.s.name}/jobs/${jobId}/result`, { epoch, result });
                return;
            }
            catch (err) {
                // Refused as stale or unknown: the coordinator gave this job up already.
                if (err instanceof Unregistered || err instanceof WorkerRefused) {
                    this.log.warn({ job: jobId, reason: err.message }, 'result refused');
                    return;
                }
                await sleep(Math.min(200 * 2 ** attempt, 5000), this.stopping.signal);
            }
        }
    }
    /** Uploaded packages come from the coordinator, once per sha256 however many jobs ask. */
    async ensureUploaded(spec) {
        if (spec.source !== 'upload' || this.cache.has(spec.sha256))
            return;
        let flight = this.uploads.get(spec.sha256);
        if (!flight) {
            flight = this.fetchUpload(spec.sha256).finally(() => this.uploads.delete(spec.sha256));
            this.uploads.set(spec.sha256, flight);
        }
        await flight;
    }
    async fetchUpload(sha256) {
        const res = await (0,undici/* request */.Em)(new URL(`/v1/packages/${sha256}`, this.s.coordinator), {
            dispatcher: this.http,
            headers: this.s.token ? { authorization: `Bearer ${this.s.token}` } : {},
            signal: this.stopping.signal,
        });
        if (res.statusCode !== 200) {
            const text = await res.body.text();
            throw new Error(`the coordinator could not send package ${sha256}: ${res.statusCode} ${text}`);
        }
        // put() verifies the bytes against the sha256 and keeps nothing that does not match.
        await this.cache.put(sha256, res.body);
    }
    /** Take no more jobs, stop running ones, close; once, however often it is asked. */
    stop() {
        this.stopped ??= this.close();
        return this.stopped;
    }
    async close() {
        this.stopping.abort();
        for (const c of this.running.values())
            c.abort();
        while (this.running.size > 0)
            await sleep(20, new AbortController().signal);
        await this.local.close();
        await this.cache.close();
        await this.http.close();
    }
}
/** Log lines of one job, sent in batches every 200 ms or 500 lines, in order. */
class LineBatcher {
    buf = [];
    timer = null;
    chain = Promise.resolve();
    send;
    constructor(send) {
        this.send = send;
    }
    add(stream, line) {
        this.buf.push({ stream, line });
        if (this.buf.length >= LOG_BATCH)
            this.flush();
        else
            this.timer ??= setTimeout(() => this.flush(), LOG_FLUSH_MS);
    }
    flush() {
        if (this.timer)
            clearTimeout(this.timer);
        this.timer = null;
        if (this.buf.length === 0)
            return;
        const batch = this.buf;
        this.buf = [];
        // Log lines are best effort: a lost batch must not fail the action.
        this.chain = this.chain.then(() => this.send(batch)).catch(() => { });
    }
    async close() {
        this.flush();
        await this.chain;
    }
}
function errorText(json, text) {
    const e = json?.error;
    return e?.message ?? text.slice(0, 200);
}
function sleep(ms, signal) {
    return new Promise((resolve) => {
        if (signal.aborted)
            return resolve();
        const t = setTimeout(resolve, ms);
        signal.addEventListener('abort', () => {
            clearTimeout(t);
            resolve();
        }, { once: true });
    });
}

// EXTERNAL MODULE: ./runner-agent/src/cli/log.ts
var cli_log = __webpack_require__(88323);
;// CONCATENATED MODULE: ./runner-agent/src/cli/worker.ts
// `flotilla worker`: a remote worker on a self-hosted runner until SIGTERM, which drains.







const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Flags over the config file's `worker`, `packages` and `dataDir` (the agent config format). */
async function resolveWorkerSettings(flags, env = process.env, cwd = process.cwd()) {
    const problems = [];
    let file = {};
    let baseDir = cwd;
    if (flags.config) {
        const loaded = await (0,load/* loadAgentConfigFile */.O)((0,external_node_path_.resolve)(cwd, flags.config));
        if (!loaded.ok)
            throw new settings/* SettingsError */.GN(loaded.issues.map((i) => (0,plan/* formatIssue */.Hd)(flags.config, i)));
        file = loaded.config;
        baseDir = (0,external_node_path_.dirname)((0,external_node_path_.resolve)(cwd, flags.config));
    }
    const coordinator = flags.coordinator ?? env.FLOTILLA_COORDINATOR;
    if (!coordinator || !/^https?:\/\/[^/]+/.test(coordinator))
        problems.push(`--coordinator must be the coordinator's URL (http://host:port), not "${coordinator ?? ''}"`);
    const name = flags.name ?? file.node ?? (0,external_node_os_.hostname)();
    if (!NAME.test(name))
        problems.push(`worker name "${name}" may use letters, digits, ".", "_" and "-"`);
    const dataDir = flags.dataDir
        ? (0,external_node_path_.resolve)(cwd, flags.dataDir)
        : (0,external_node_path_.resolve)(baseDir, file.dataDir ?? '.flotilla-worker');
    const rootDir = (0,external_node_path_.resolve)(cwd, flags.root ?? (0,external_node_path_.join)(dataDir, 'targets'));
    const targets = (0,load/* inventoryOf */.o)({ ...file, dataDir }, baseDir);
    for (const spec of flags.target ?? []) {
        const m = /^([A-Za-z0-9][A-Za-z0-9._-]*):([^,\s]+(?:,[^,\s]+)*)$/.exec(spec);
        if (!m) {
            problems.push(`--target must be name:role[,role\u2026] (e.g. web-1:web,api), not "${spec}"`);
            continue;
        }
        targets.push({ name: m[1], roles: m[2].split(','), host: m[1], root: (0,external_node_path_.join)(rootDir, m[1]) });
    }
    const maxText = flags.maxActions ?? String(file.worker?.maxActions ?? 10);
    if (!/^[1-9]\d*$/.test(maxText))
        problems.push(`--max-actions must be a whole number from 1, not "${maxText}"`);
    if (problems.length)
        throw new settings/* SettingsError */.GN(problems);
    const packages = file.packages ?? {};
    return {
        coordinator: coordinator.replace(/\/+$/, ''),
        token: flags.token ?? env.FLOTILLA_TOKEN,
        name,
        pools: flags.pool?.length ? flags.pool : (file.worker?.pools ?? ['default']),
        targets,
        maxActions: Number(maxText),
        dataDir,
        killGraceMs: Number(env.FLOTILLA_KILL_GRACE_MS ?? 10_000),
        packages: {
            dir: packages.cacheDir ? (0,external_node_path_.resolve)(baseDir, packages.cacheDir) : (0,external_node_path_.join)(dataDir, 'packages'),
            maxCacheBytes: (0,settings/* parseBytes */.z_)(packages.maxCacheBytes ?? '20GB'),
            maxPackageBytes: (0,settings/* parseBytes */.z_)(packages.maxPackageBytes ?? '4GB'),
            allowedHosts: packages.allowedHosts ?? [],
            attempts: 4,
            backoffMs: Number(env.FLOTILLA_RETRY_BACKOFF_MS ?? 1000),
            stallTimeoutMs: Number(env.FLOTILLA_PACKAGE_STALL_MS ?? 30_000),
        },
    };
}
async function workerCommand(flags) {
    const settings = await resolveWorkerSettings(flags);
    const log = (0,cli_log/* cliLogger */.$)();
    const worker = new RemoteWorkerProcess(settings, log);
    // The first signal drains, as the agent's does; a second one stops what still runs.
    let signals = 0;
    const onSignal = (sig) => {
        if (++signals === 1) {
            log.info({ signal: sig }, 'draining: running actions finish, nothing new is taken; signal again to stop them');
            worker.drain();
        }
        else {
            log.info({ signal: sig }, 'stopping: running actions are stopped, the coordinator retries them');
            void worker.stop();
        }
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    try {
        await worker.run();
    }
    catch (err) {
        if (!(err instanceof WorkerRefused))
            throw err;
        console.error(`flotilla: the coordinator refused this worker: ${err.message}`);
        await worker.stop();
        return 2;
    }
    await worker.stop();
    log.info('stopped');
    return 0;
}


/***/ })

};
