export const id = 502;
export const ids = [502];
export const modules = {

/***/ 48502:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  I: () => (/* binding */ startAgent)
});

// UNUSED EXPORTS: openStore

// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(76760);
// EXTERNAL MODULE: ./node_modules/pino/pino.js
var pino = __webpack_require__(65005);
var pino_default = /*#__PURE__*/__webpack_require__.n(pino);
// EXTERNAL MODULE: ./node_modules/fastify/fastify.js
var fastify = __webpack_require__(16703);
var fastify_default = /*#__PURE__*/__webpack_require__.n(fastify);
// EXTERNAL MODULE: ./node_modules/zod/v4/classic/schemas.js + 17 modules
var schemas = __webpack_require__(38816);
;// CONCATENATED MODULE: ./src/client/types.ts
// The HTTP API's request bodies and answers, shared by the agent (which
// validates them) and the clients (the action and the CLI).

const githubContextSchema = schemas/* strictObject */.rej({
    apiUrl: schemas/* string */.YjP().url(),
    serverUrl: schemas/* string */.YjP().url(),
    repository: schemas/* string */.YjP().regex(/^[^/\s]+\/[^/\s]+$/, 'repository is owner/name'),
    sha: schemas/* string */.YjP().regex(/^[a-f0-9]{40}$/, 'sha is a 40-character commit sha'),
    ref: schemas/* string */.YjP().min(1),
    event: schemas/* string */.YjP().min(1),
    runId: schemas/* union */.KCZ([schemas/* string */.YjP(), schemas/* number */.aig()]),
    runAttempt: schemas/* union */.KCZ([schemas/* string */.YjP(), schemas/* number */.aig()]),
    job: schemas/* string */.YjP(),
    token: schemas/* string */.YjP().optional(),
    checkName: schemas/* string */.YjP().max(200).optional(),
});
const submitSchema = schemas/* strictObject */.rej({
    /** Plan text (YAML or JSON, so problems get line numbers) or an already-parsed plan. */
    plan: schemas/* union */.KCZ([schemas/* string */.YjP(), schemas/* record */.g1P(schemas/* string */.YjP(), schemas/* unknown */.L5J())]),
    release: schemas/* string */.YjP().min(1).optional(),
    environment: schemas/* string */.YjP().min(1).optional(),
    tenants: schemas/* array */.YOg(schemas/* string */.YjP().min(1)).optional(),
    idempotencyKey: schemas/* string */.YjP().min(1).max(512).optional(),
    /** Values for the plan's `secrets`, masked everywhere. */
    secrets: schemas/* record */.g1P(schemas/* string */.YjP(), schemas/* string */.YjP()).optional(),
    github: githubContextSchema.optional(),
});
const capSchema = schemas/* strictObject */.rej({ taskCap: schemas/* number */.aig().int().min(0).max(10_000) });
const drainSchema = schemas/* strictObject */.rej({ wait: schemas/* boolean */.zMY().optional() }).optional();

// EXTERNAL MODULE: external "node:events"
var external_node_events_ = __webpack_require__(78474);
// EXTERNAL MODULE: ./src/plan/index.ts + 9 modules
var src_plan = __webpack_require__(91816);
// EXTERNAL MODULE: ./runner-agent/src/store/rows.ts
var rows = __webpack_require__(45821);
// EXTERNAL MODULE: ./runner-agent/src/store/types.ts
var types = __webpack_require__(66143);
;// CONCATENATED MODULE: ./runner-agent/src/scheduler/wakeups.ts
// Wake-ups for what waits on a change: an action on a target's mutex (keyed
// by the target, so a release wakes only that target's waiters, not every
// waiting action), a placement on the workers. Changes are counted, so a
// waiter notes the count before it tries and cannot miss a change that
// happens while its attempt is in flight (the store commits in groups).

class Wakeups {
    counts = new Map();
    emitter = new external_node_events_.EventEmitter().setMaxListeners(0);
    /** Changes of `key` so far; pass it to `after` once the attempt failed. */
    seen(key = '') {
        return this.counts.get(key) ?? 0;
    }
    notify(key = '') {
        this.counts.set(key, this.seen(key) + 1);
        this.emitter.emit(key);
    }
    /**
     * Resolves once `key` changed after `seen`, after `pollMs` (another node's
     * change is not announced here) or when `signal` aborts.
     */
    after(seen, pollMs, signal, key = '') {
        if (this.seen(key) > seen || signal.aborted)
            return Promise.resolve();
        return new Promise((resolve) => {
            const done = () => {
                clearTimeout(timer);
                this.emitter.off(key, done);
                signal.removeEventListener('abort', done);
                resolve();
            };
            const timer = setTimeout(done, pollMs);
            this.emitter.on(key, done);
            signal.addEventListener('abort', done, { once: true });
        });
    }
}

// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(77598);
;// CONCATENATED MODULE: ./runner-agent/src/worker/remote.ts
// The coordinator's side of a remote worker: a Worker whose actions travel
// over HTTP. execute() and acquire() queue a job; the worker's long poll takes
// it; log batches and the result come back carrying the registration's epoch,
// and a result from an older registration is refused (it belongs to a worker
// life the coordinator already gave up on).

class StaleEpochError extends Error {
}
const WORKER_LOST = 'worker lost';
// Job ids name this coordinator life too: a worker that outlived a restart
// may still post a result for an earlier life's job, and it must not match a
// new job that happens to have the same number.
const life = (0,external_node_crypto_.randomBytes)(4).toString('hex');
let jobSeq = 0;
const nextJobId = () => `${life}-${++jobSeq}`;
class RemoteWorker {
    name;
    pools;
    targets;
    maxActions;
    epoch;
    /** Last request from the worker (ms); a poll held open counts as contact too. */
    lastSeen = Date.now();
    online = true;
    /** Stopping: it finishes the jobs it was given and is placed nothing new. */
    draining = false;
    jobs = new Map();
    cancels = [];
    poller = null;
    onChange;
    constructor(reg, epoch, onChange) {
        this.name = reg.name;
        this.pools = reg.pools;
        this.targets = reg.targets.map((t) => ({
            name: t.name,
            roles: t.roles,
            host: t.host,
            root: t.root,
            ...(t.tenants ? { tenants: t.tenants } : {}),
        }));
        this.maxActions = reg.maxActions;
        this.epoch = epoch;
        this.onChange = onChange;
    }
    get runningActions() {
        let n = 0;
        for (const p of this.jobs.values())
            if (p.job.type === 'action')
                n++;
        return n;
    }
    get polling() {
        return this.poller !== null;
    }
    async execute(request, signal, onLine) {
        const r = await this.send({ id: nextJobId(), type: 'action', request }, signal, onLine);
        if ('ok' in r)
            return r;
        return { ok: false, cancelled: false, exitCode: null, message: 'error' in r ? r.error : 'bad result' };
    }
    async acquire(spec, holder, signal, onLine) {
        const r = await this.send({ id: nextJobId(), type: 'acquire', spec, holder }, signal, (_s, l) => onLine(l));
        if ('acquired' in r)
            return { ...r.acquired, package: spec.name, worker: this.name };
        throw new Error('error' in r ? r.error : r.message);
    }
    releasePackages(holder) {
        if (!this.online)
            return;
        this.queue({ id: nextJobId(), type: 'release', holder });
    }
    send(job, signal, onLine) {
        if (!this.online)
            return Promise.resolve({ error: `${WORKER_LOST}: worker ${this.name} is offline` });
        return new Promise((resolve) => {
            const onAbort = () => {
                const p = this.jobs.get(job.id);
                if (!p)
                    return;
                if (!p.sent) {
                    this.jobs.delete(job.id);
                    resolve({ ok: false, cancelled: true, exitCode: null, message: 'cancelled' });
                    return;
                }
                // The worker stops the process and answers with the cancelled result.
                this.cancels.push(job.id);
                this.wake();
            };
            const settle = (r) => {
                signal.removeEventListener('abort', onAbort);
                this.jobs.delete(job.id);
                this.onChange();
                resolve(r);
            };
            this.jobs.set(job.id, { job, sent: false, onLine, settle });
            signal.addEventListener('abort', onAbort, { once: true });
            if (signal.aborted)
                onAbort();
            else
                this.wake();
        });
    }
    queue(job) {
        this.jobs.set(job.id, { job, sent: false, onLine: () => { }, settle: () => this.jobs.delete(job.id) });
        this.wake();
    }
    unsent() {
        const jobs = [];
        for (const p of this.jobs.values()) {
            if (p.sent)
                continue;
            p.sent = true;
            jobs.push(p.job);
            // Releases have no answer.
            if (p.job.type === 'release')
                this.jobs.delete(p.job.id);
        }
        return { jobs, cancel: this.cancels.splice(0) };
    }
    wake() {
        const poller = this.poller;
        if (!poller)
            return;
        const answer = this.unsent();
        if (answer.jobs.length === 0 && answer.cancel.length === 0)
            return;
        this.poller = null;
        poller(answer);
    }
    /**
     * The worker's long poll: answers at once when jobs or cancellations wait,
     * else when one arrives or after `holdMs`. `gone` resolves when the
     * worker's connection closed, so jobs are never handed to a dead poll.
     */
    poll(epoch, holdMs, gone) {
        this.check(epoch);
        this.lastSeen = Date.now();
        const now = this.unsent();
        if (now.jobs.length || now.cancel.length)
            return Promise.resolve(now);
        // A newer poll replaces an older one (the worker gave up on it).
        this.poller?.({ jobs: [], cancel: [] });
        return new Promise((resolve) => {
            const done = (a) => {
                clearTimeout(timer);
                if (this.poller === done)
                    this.poller = null;
                resolve(a);
            };
            const timer = setTimeout(() => done({ jobs: [], cancel: [] }), holdMs);
            this.poller = done;
            void gone.then(() => {
                if (this.poller === done)
                    done({ jobs: [], cancel: [] });
            });
        });
    }
    /** The worker is stopping (SIGTERM): the registry places nothing new on it from now on. */
    drain(epoch) {
        this.check(epoch);
        if (this.draining)
            return;
        this.draining = true;
        this.onChange();
    }
    log(epoch, jobId, lines) {
        this.check(epoch);
        this.lastSeen = Date.now();
        const p = this.jobs.get(jobId);
        if (!p)
            return;
        for (const l of lines)
            p.onLine(l.stream, l.line);
    }
    /** False when the job is unknown (it was settled already, e.g. as lost). */
    result(epoch, jobId, result) {
        this.check(epoch);
        this.lastSeen = Date.now();
        const p = this.jobs.get(jobId);
        if (!p)
            return false;
        p.settle(result);
        return true;
    }
    /** No contact within leaseTtl: every job it had fails with `worker lost` (retries apply). */
    lose() {
        this.online = false;
        this.poller?.({ jobs: [], cancel: [] });
        this.poller = null;
        this.cancels.length = 0;
        for (const p of [...this.jobs.values()]) {
            p.settle(p.job.type === 'action'
                ? { ok: false, cancelled: false, exitCode: null, message: WORKER_LOST }
                : { error: `${WORKER_LOST}: worker ${this.name} stopped answering` });
        }
        this.jobs.clear();
    }
    check(epoch) {
        if (epoch !== this.epoch || !this.online) {
            throw new StaleEpochError(`epoch ${epoch} of worker ${this.name} is stale (current ${this.online ? this.epoch : 'none: the worker was declared lost'}); register again`);
        }
    }
}

;// CONCATENATED MODULE: ./runner-agent/src/worker/registry.ts


class RegistryError extends Error {
    status;
    constructor(status, message) {
        super(message);
        this.status = status;
    }
}
class WorkerRegistry {
    local;
    localMax;
    leaseTtlMs;
    remotes = new Map();
    /** Actions placed on each worker and not finished yet (the cap counts these). */
    busy = new Map();
    /**
     * Starts at the clock, not at 0: registrations live in memory, and a worker
     * that outlived a coordinator restart still posts results under its old
     * epoch, which the new life must refuse rather than take as its own.
     */
    epochs = Date.now();
    /** Counted, so a waiter cannot miss a change made while it looked. */
    changed = new Wakeups();
    sweeper = null;
    /**
     * Every hosted target, and its worker by name: made again only when a
     * worker registers, not looked through on every action (a task expands its
     * steps over all of them; 100 targets, 2,000 actions: 4% of the agent's CPU).
     */
    inventory;
    constructor(opts) {
        this.local = opts.local;
        this.localMax = opts.localMaxActions ?? Number.POSITIVE_INFINITY;
        this.leaseTtlMs = opts.leaseTtlMs;
        this.inventory = this.takeInventory();
    }
    takeInventory() {
        const hosts = new Map();
        const targets = [];
        for (const w of [this.local, ...this.remotes.values()]) {
            for (const t of w.targets) {
                targets.push(t);
                hosts.set(t.name, w);
            }
        }
        return { targets, hosts };
    }
    /** Checks for silent workers every second, so a lost one is noticed within leaseTtl + 1 s. */
    start() {
        this.sweeper = setInterval(() => this.sweep(), 1000);
        this.sweeper.unref();
    }
    stop() {
        if (this.sweeper)
            clearInterval(this.sweeper);
        for (const w of this.remotes.values())
            w.lose();
    }
    sweep(now = Date.now()) {
        for (const w of this.remotes.values()) {
            if (w.online && !w.polling && now - w.lastSeen > this.leaseTtlMs) {
                w.lose();
                this.notify();
            }
        }
    }
    /**
     * Targets every known worker hosts, online or not (an offline worker's
     * actions wait for it). The same array until a worker registers.
     */
    targets() {
        return this.inventory.targets;
    }
    remote(name) {
        const w = this.remotes.get(name);
        if (!w)
            throw new RegistryError(404, `worker ${name} is not registered here; register again`);
        return w;
    }
    register(reg) {
        if (reg.name === this.local.name)
            throw new RegistryError(409, `worker name ${reg.name} is this coordinator's own worker`);
        const mine = new Set(reg.targets.map((t) => t.name));
        if (mine.size !== reg.targets.length)
            throw new RegistryError(400, `worker ${reg.name} lists a target name twice`);
        for (const w of [this.local, ...this.remotes.values()]) {
            if (w.name === reg.name)
                continue;
            const clash = w.targets.find((t) => mine.has(t.name));
            if (clash)
                throw new RegistryError(409, `target ${clash.name} is already hosted by worker ${w.name}`);
        }
        const epoch = ++this.epochs;
        const old = this.remotes.get(reg.name);
        // A restarted worker re-registers with the same name: its old life's
        // actions are lost, and its new description replaces the old one.
        old?.lose();
        const w = new RemoteWorker(reg, epoch, () => this.notify());
        this.remotes.set(reg.name, w);
        this.inventory = this.takeInventory();
        this.notify();
        return w;
    }
    isOnline(w) {
        return w === this.local || w.online;
    }
    isDraining(w) {
        return w !== this.local && w.draining;
    }
    capOf(w) {
        return w === this.local ? this.localMax : w.maxActions;
    }
    take(w) {
        this.busy.set(w.name, (this.busy.get(w.name) ?? 0) + 1);
        let released = false;
        return {
            worker: w,
            done: () => {
                if (released)
                    return;
                released = true;
                this.busy.set(w.name, (this.busy.get(w.name) ?? 1) - 1);
                this.notify();
            },
        };
    }
    hostOf(target) {
        return this.inventory.hosts.get(target);
    }
    /** The workers hosting these targets that are online now. */
    hostsOf(targets) {
        const hosts = new Set();
        for (const t of targets) {
            const w = this.hostOf(t);
            if (w && this.isOnline(w))
                hosts.add(w);
        }
        return [...hosts];
    }
    /** A worker for an action now, or why there is none. */
    place(where) {
        if ('target' in where) {
            const w = this.hostOf(where.target);
            if (!w)
                return { waitingOn: `target ${where.target}: no worker hosts it any more` };
            if (!this.isOnline(w))
                return { waitingOn: `target ${where.target}: worker ${w.name} is offline` };
            if (this.isDraining(w))
                return { waitingOn: `target ${where.target}: worker ${w.name} is draining (stopping)` };
            const cap = this.capOf(w);
            const n = this.busy.get(w.name) ?? 0;
            if (n >= cap)
                return { waitingOn: `worker ${w.name} runs ${n} of ${cap} actions (worker.maxActions)` };
            return this.take(w);
        }
        const members = [this.local, ...this.remotes.values()].filter((w) => w.pools.includes(where.pool));
        const live = members.filter((w) => this.isOnline(w));
        if (live.length === 0) {
            return {
                waitingOn: members.length
                    ? `pool ${where.pool}: its workers (${members.map((w) => w.name).join(', ')}) are offline`
                    : `pool ${where.pool}: no worker belongs to it`,
            };
        }
        const open = live.filter((w) => !this.isDraining(w));
        if (open.length === 0) {
            return {
                waitingOn: `pool ${where.pool}: its online workers (${live.map((w) => w.name).join(', ')}) are draining`,
            };
        }
        const free = open.filter((w) => (this.busy.get(w.name) ?? 0) < this.capOf(w));
        if (free.length === 0)
            return { waitingOn: `pool ${where.pool}: all ${open.length} online workers run their maxActions` };
        const least = free.reduce((a, b) => (this.busy.get(b.name) ?? 0) < (this.busy.get(a.name) ?? 0) ? b : a);
        return this.take(least);
    }
    /** Changes so far; pass it to `changes` once place() answered with a reason to wait. */
    get seen() {
        return this.changed.seen();
    }
    /** Resolves after a change since `seen` (a worker came, went or finished an action), or after `ms`. */
    changes(seen, ms, signal) {
        return this.changed.after(seen, ms, signal);
    }
    notify() {
        this.changed.notify();
    }
    list() {
        const view = (w, lastSeen) => ({
            name: w.name,
            pools: w.pools,
            targets: w.targets.map((t) => ({
                name: t.name,
                roles: t.roles,
                host: t.host,
                tenants: t.tenants ?? null,
            })),
            state: !this.isOnline(w) ? 'offline' : this.isDraining(w) ? 'draining' : 'online',
            local: w === this.local,
            runningActions: w.runningActions,
            maxActions: Number.isFinite(this.capOf(w)) ? this.capOf(w) : null,
            lastHeartbeat: new Date(lastSeen).toISOString(),
        });
        return [
            view(this.local, Date.now()),
            ...[...this.remotes.values()].map((w) => view(w, w.polling ? Date.now() : w.lastSeen)),
        ];
    }
}

;// CONCATENATED MODULE: ./runner-agent/src/scheduler/event-log.ts
// Events (transitions and log lines) go to the store in small batches, and
// listeners in this process (SSE streams) hear of each batch at once. A batch
// is at most a few milliseconds old, so a crash loses at most that much log.

const FLUSH_MS = 20;
const MAX_BATCH = 500;
/** The emitter's name for whole batches; deployment ids start with dep_, so it cannot clash. */
const BATCH = Symbol('batch');
class EventLog {
    buffer = [];
    timer = null;
    flushing = Promise.resolve();
    emitter = new external_node_events_.EventEmitter();
    store;
    onError;
    constructor(store, onError) {
        this.store = store;
        this.onError = onError;
        this.emitter.setMaxListeners(0);
    }
    emit(event) {
        this.buffer.push({ ...event, at: event.at ?? Date.now() });
        if (this.buffer.length >= MAX_BATCH)
            void this.flush();
        else
            this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
    }
    /** Writes what is buffered; resolves when it is in the store. */
    flush() {
        if (this.timer)
            clearTimeout(this.timer);
        this.timer = null;
        const batch = this.buffer;
        this.buffer = [];
        this.flushing = this.flushing.then(async () => {
            if (batch.length === 0)
                return;
            try {
                await this.store.appendEvents(batch);
            }
            catch (err) {
                this.onError(err);
            }
            this.tell(batch);
        });
        return this.flushing;
    }
    /** Tells this process's listeners of events the store wrote by itself (see Store.recoverTasks). */
    written(events) {
        const at = Date.now();
        this.flushing = this.flushing.then(() => this.tell(events.map((e) => ({ ...e, at: e.at ?? at }))));
    }
    tell(batch) {
        for (const id of new Set(batch.map((e) => e.deploymentId)))
            this.emitter.emit(id);
        this.emitter.emit(BATCH, batch);
    }
    /** Calls `listener` with every batch once it is written (the check-run reporter); returns the unsubscribe. */
    onBatch(listener) {
        this.emitter.on(BATCH, listener);
        return () => this.emitter.off(BATCH, listener);
    }
    /** Calls `listener` after events of the deployment were written; returns the unsubscribe. */
    subscribe(deploymentId, listener) {
        this.emitter.on(deploymentId, listener);
        return () => this.emitter.off(deploymentId, listener);
    }
}

;// CONCATENATED MODULE: ./runner-agent/src/scheduler/target-holds.ts
// This node's side of the per-target mutex (design rule 3): which of its
// tasks holds each target, and which of its actions wait for one, in the
// order they came. The store keeps the lock rows; when an action here lets
// go of a target another action here waits for, the target passes straight
// to that one and its row is handed over with the end's write, never free in
// between: no other node takes it meanwhile, the waiter starts once that
// write is in without asking the store itself, and an action arriving later
// cannot take it first: first come, first served, as in the ideal schedule
// of the makespan benchmark, which took about 5% longer when made to wake
// every waiter a moment after a release and let newcomers go first (as the
// agent did before; three alternations).
class TargetHolds {
    holders = new Map();
    queues = new Map();
    /** The task of this node holding the target, if one does. */
    holder(target) {
        return this.holders.get(target);
    }
    /** The store gave the target's lock to the task. */
    hold(target, taskId) {
        this.holders.set(target, taskId);
    }
    /**
     * Waits in line behind the target's holder here (call it only while a task
     * here holds the target); `onHolder` hears of each new holder meanwhile.
     */
    waitTurn(target, taskId, actionId, signal, onHolder) {
        if (signal.aborted)
            return Promise.resolve('cancelled');
        return new Promise((resolve) => {
            const queue = this.queues.get(target) ?? [];
            this.queues.set(target, queue);
            const onAbort = () => {
                const i = queue.indexOf(waiter);
                // Already handed the target: it goes on, and ends as its task is cancelled, letting go of it.
                if (i < 0)
                    return;
                queue.splice(i, 1);
                resolve('cancelled');
            };
            const waiter = {
                taskId,
                actionId,
                onHolder,
                wake: (turn) => {
                    signal.removeEventListener('abort', onAbort);
                    resolve(turn);
                },
            };
            signal.addEventListener('abort', onAbort, { once: true });
            queue.push(waiter);
        });
    }
    /**
     * The task is done with the target and the first action waiting for it
     * here, if any, gets it: returned, for the caller to pass it the lock row
     * and then call `passed`, which lets the action go on (its script does
     * not run before the row is its own). With no one waiting, the task keeps
     * the target (see release).
     */
    handOver(target, taskId) {
        if (this.holders.get(target) !== taskId)
            return null;
        const queue = this.queues.get(target);
        const next = queue?.shift();
        if (!next)
            return null;
        if (queue.length === 0)
            this.queues.delete(target);
        this.holders.set(target, next.taskId);
        for (const w of queue)
            w.onHolder(next.taskId);
        return { taskId: next.taskId, actionId: next.actionId, passed: () => next.wake('handed') };
    }
    /** The task lets go of the target: it is free here, and whoever waits for it tries the store. */
    release(target, taskId) {
        if (this.holders.get(target) !== taskId)
            return;
        this.holders.delete(target);
        const queue = this.queues.get(target) ?? [];
        this.queues.delete(target);
        for (const w of queue)
            w.wake('free');
    }
}

// EXTERNAL MODULE: ./runner-agent/src/ids.ts
var ids = __webpack_require__(78894);
;// CONCATENATED MODULE: ./runner-agent/src/scheduler/mask.ts
function makeMask(secrets) {
    const values = [...new Set(secrets.filter((s) => s.length >= 3))].sort((a, b) => b.length - a.length);
    if (values.length === 0)
        return (t) => t;
    const re = new RegExp(values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
    return (t) => t.replace(re, '***');
}

;// CONCATENATED MODULE: ./runner-agent/src/scheduler/task-runner.ts
// Runs one claimed task: its steps in order, each step's actions over its
// targets at most `window` at a time, under the per-target mutex, with
// retries, timeouts, maxFailures and continueOnError (design rules 3 to 6).




function secretValuesOf(deployment) {
    const { plan } = deployment;
    const values = Object.values(deployment.secrets);
    for (const name of plan.secrets) {
        const v = plan.variables[name];
        if (v)
            values.push(v);
        for (const t of plan.tenants ?? []) {
            const tv = t.variables[name];
            if (tv)
                values.push(tv);
        }
    }
    return values;
}
/**
 * What every task of a deployment shares, built once per deployment (the
 * coordinator hands its tasks one row object): a plan of thousands of tenants
 * would otherwise be searched and its secrets collected again for each task.
 */
const shared = new WeakMap();
function sharedOf(deployment) {
    let s = shared.get(deployment);
    if (!s) {
        s = {
            tenants: new Map((deployment.plan.tenants ?? []).map((t) => [t.name, t])),
            mask: makeMask(secretValuesOf(deployment)),
        };
        shared.set(deployment, s);
    }
    return s;
}
class TaskRunner {
    deps;
    task;
    deployment;
    plan;
    tenant;
    mask;
    abort = new AbortController();
    deploymentId;
    actionStarted = false;
    /** The first action's start, which fences the task: no other action starts before it is written. */
    fenced = Promise.resolve();
    /** Packages acquired for this task (or why not), by package name. */
    acquired = new Map();
    /** Workers that acquired packages for this task, to release them when it ends. */
    usedWorkers = new Set();
    steps = [];
    /**
     * The task's action rows until a write takes them: usually the first
     * action's start, so a task's actions cost no write of their own.
     */
    unsaved = [];
    /** The write that took the rows. */
    saved = Promise.resolve();
    /** Actions of the running step that have not ended. */
    unfinishedInStep = 0;
    /** Action ends written with the task's end (finishTask), not on their own. */
    endsWithTask = [];
    /** Targets whose locks the task's end releases. */
    releasedWithTask = [];
    /** Target locks the task's end passes to actions waiting for them. */
    handoffsWithTask = [];
    /** Those actions, let go on once the task's end is written. */
    passedWithTask = [];
    /** Action starts and ends not yet written (see afterWrite), and the first that failed. */
    unwaitedWrites = [];
    unwaitedWriteError;
    constructor(deps, task, deployment) {
        this.deps = deps;
        this.task = task;
        this.deployment = deployment;
        this.plan = deployment.plan;
        const { tenants, mask } = sharedOf(deployment);
        this.tenant = task.tenant === null ? undefined : tenants.get(task.tenant);
        this.deploymentId = deployment.id;
        this.mask = mask;
    }
    event(type, data) {
        this.deps.events.emit({ deploymentId: this.deployment.id, taskId: this.task.id, type, data });
    }
    log(line, extra = {}) {
        this.event('log', { line: this.mask(line), ...extra });
    }
    async run() {
        const expanded = (0,src_plan/* expandActions */.Ud)(this.plan, this.task.tenant, this.deps.workers.targets());
        if (!expanded.ok) {
            const message = expanded.issues.map((i) => `${i.path}: ${i.message}`).join('; ');
            this.log(`task cannot run: ${message}`);
            return { state: 'failed', message };
        }
        const steps = expanded.value.map((specs, stepIndex) => specs.map((spec) => ({
            spec,
            row: {
                id: (0,ids/* newId */.S)('act'),
                taskId: this.task.id,
                stepIndex,
                step: spec.step.name,
                target: spec.target?.name ?? null,
                worker: null,
                state: 'pending',
                attempt: 0,
            },
        })));
        this.steps = steps;
        this.unsaved = steps.flat().map((a) => a.row);
        let outcome;
        try {
            outcome = await this.runSteps(steps);
        }
        finally {
            for (const w of this.usedWorkers)
                w.releasePackages(this.task.id);
            await this.saveActions();
            await Promise.all(this.unwaitedWrites);
        }
        if (this.unwaitedWriteError !== undefined)
            throw this.unwaitedWriteError;
        return outcome;
    }
    /** Called once the task's end is written (or its lease lost): its last target locks are free. */
    endWritten() {
        for (const passed of this.passedWithTask)
            passed();
        for (const t of this.releasedWithTask) {
            // Its row is gone: whoever waits here takes it from the store.
            this.deps.targets.release(t, this.task.id);
            this.deps.targetReleases.notify(t);
        }
    }
    /**
     * Runs a write about the task's actions once their rows are in the store.
     * The first such write takes the rows along (`insert`); the ones after it
     * wait for it, since actions of one step start side by side.
     */
    async actionWrite(write) {
        if (this.unsaved.length === 0) {
            await this.saved;
            return write([]);
        }
        const rows = this.unsaved;
        this.unsaved = [];
        this.saved = write(rows);
        return this.saved;
    }
    /** Writes the task's action rows, unless a write took them already. */
    saveActions() {
        return this.actionWrite(async (rows) => {
            if (rows.length > 0)
                await this.deps.store.insertActions(rows);
        });
    }
    async runSteps(steps) {
        let failedStep = null;
        for (const [i, actions] of steps.entries()) {
            const step = this.plan.steps[i];
            if (this.abort.signal.aborted) {
                await this.settle(actions, 'cancelled', 'the task was cancelled');
                continue;
            }
            if (failedStep) {
                await this.settle(actions, 'skipped', `skipped: step ${failedStep} failed`);
                continue;
            }
            const acquireError = step.kind === 'deploy' ? await this.acquireFrom(i, step.package) : null;
            if (acquireError)
                await this.settle(actions, 'failed', acquireError);
            const ok = acquireError === null && (await this.runStep(step, actions));
            if (!ok && !step.continueOnError)
                failedStep = step.name;
        }
        if (this.abort.signal.aborted)
            return { state: 'cancelled', message: 'cancelled' };
        return failedStep
            ? { state: 'failed', message: `step ${failedStep} failed` }
            : { state: 'succeeded', message: null };
    }
    async settle(actions, state, message) {
        await this.saveActions();
        for (const a of actions) {
            if (a.row.state !== 'pending')
                continue;
            a.row.state = state;
            await this.deps.store.updateAction(a.row.id, {
                state,
                message,
                finishedAt: Date.now(),
                waitingOn: null,
            });
            this.event(`action.${state}`, { actionId: a.row.id, step: a.row.step, target: a.row.target, message });
        }
    }
    /** Runs a step's actions at most `window` at once; false when the step failed. */
    async runStep(step, actions) {
        const allowed = 'count' in step.maxFailures
            ? step.maxFailures.count
            : Math.floor((step.maxFailures.percent / 100) * actions.length);
        const window = step.on === 'worker' ? 1 : step.window;
        this.unfinishedInStep = actions.length;
        let failures = 0;
        const running = new Set();
        const remaining = actions.slice();
        const mutex = step.on === 'targets' && !this.plan.concurrency.bypassTargetMutex;
        // The next action prefers a target no task holds now, so that an action
        // waiting for a busy target does not leave free targets idle.
        const takeNext = () => {
            const free = mutex
                ? remaining.findIndex((a) => this.deps.targets.holder(a.spec.target.name) === undefined)
                : 0;
            return remaining.splice(Math.max(free, 0), 1)[0];
        };
        // Actions beyond the window wait, and say why (once each), all in one
        // go: written side by side, they reach the store with the first starts.
        const announced = new Set();
        const waitingForWindow = () => Promise.all(remaining
            .filter((a) => !announced.has(a))
            .map((a) => {
            announced.add(a);
            return this.setWaiting(a, `window: step ${step.name} runs ${window} of ${window} actions at once`);
        }));
        // An action that throws (a write the store refused) fails the step once
        // the others have ended: none is left running unwatched.
        let thrown;
        while (remaining.length > 0 && !this.abort.signal.aborted && failures <= allowed && !thrown) {
            if (running.size >= window) {
                await waitingForWindow();
                // An action may have ended meanwhile (its end is not waited for): a
                // race over an empty set would never settle.
                if (running.size >= window)
                    await Promise.race(running);
                continue;
            }
            const p = this.runAction(step, takeNext()).then((ok) => {
                if (!ok)
                    failures++;
                running.delete(p);
            }, (err) => {
                thrown ??= { err };
                running.delete(p);
            });
            running.add(p);
        }
        await Promise.all(running);
        if (thrown)
            throw thrown.err;
        if (this.abort.signal.aborted) {
            await this.settle(actions, 'cancelled', 'the task was cancelled');
            return false;
        }
        if (failures > allowed) {
            await this.settle(actions, 'skipped', `skipped: step ${step.name} failed past maxFailures (${failures} failed, ${allowed} allowed)`);
            return false;
        }
        return true;
    }
    /**
     * Before the first step that uses a package: acquires the packages of this
     * and every later deploy step not acquired yet, at most acquireParallelism
     * at once (design rule 4). Resolves with why `name` could not be acquired,
     * or null.
     */
    async acquireFrom(stepIndex, name) {
        if (!this.acquired.has(name)) {
            const wanted = new Set();
            for (const s of this.plan.steps.slice(stepIndex))
                if (s.kind === 'deploy' && !this.acquired.has(s.package))
                    wanted.add(s.package);
            const queue = [...wanted];
            const lane = async () => {
                for (let next = queue.shift(); next && !this.abort.signal.aborted; next = queue.shift()) {
                    this.acquired.set(next, await this.acquireOne(next));
                }
            };
            await Promise.all(Array.from({ length: Math.min(this.plan.concurrency.acquireParallelism, queue.length) }, lane));
        }
        // A cancelled task's step settles its actions as cancelled, not failed.
        if (this.abort.signal.aborted)
            return null;
        return this.acquired.get(name) ?? null;
    }
    /**
     * Acquires a package on every online worker hosting a target of a step that
     * deploys it; a worker offline now acquires it in the deploy action itself.
     */
    async acquireOne(name) {
        const targets = this.steps.flatMap((actions, i) => {
            const step = this.plan.steps[i];
            return step.kind === 'deploy' && step.package === name
                ? actions.flatMap((a) => (a.spec.target ? [a.spec.target.name] : []))
                : [];
        });
        const errors = await Promise.all(this.deps.workers.hostsOf(targets).map((w) => this.acquireOn(w, name)));
        return errors.find((e) => e !== null) ?? null;
    }
    async acquireOn(worker, name) {
        try {
            const spec = this.packageSpec(name);
            this.usedWorkers.add(worker);
            const r = await worker.acquire(spec, this.task.id, this.abort.signal, (line) => this.log(line, { package: name }));
            const what = { hit: 'cache hit', miss: 'downloaded', joined: 'downloaded by another task' }[r.cache];
            this.log(`package ${name} (sha256 ${r.sha256.slice(0, 12)}\u2026): ${what}, ${r.bytes} bytes in ${r.seconds.toFixed(3)} s on worker ${r.worker}`, { package: name });
            this.event('package.acquired', {
                package: name,
                sha256: r.sha256,
                bytes: r.bytes,
                seconds: r.seconds,
                cache: r.cache,
                cacheHit: r.cache !== 'miss',
                worker: r.worker,
            });
            this.deps.onPackage?.(r);
            return null;
        }
        catch (err) {
            const message = `package ${name} could not be acquired: ${this.mask(err.message)}`;
            this.log(message, { package: name });
            this.event('package.failed', { package: name, worker: worker.name, message });
            this.deps.onPackage?.({ package: name, worker: worker.name, error: message });
            return message;
        }
    }
    packageSpec(name) {
        const p = this.plan.packages[name];
        if (p.source === 'upload') {
            if (!p.sha256)
                throw new Error(`upload package ${name} has no sha256; submit it with flotilla deploy or the action`);
            return { name, source: 'upload', sha256: p.sha256, allowSymlinks: p.allowSymlinks };
        }
        const scope = {
            project: this.deployment.project,
            environment: this.deployment.environment,
            release: this.deployment.release,
            variables: { ...this.plan.variables, ...this.tenant?.variables },
        };
        if (this.tenant)
            scope.tenant = this.tenant;
        return {
            name,
            source: 'url',
            url: (0,src_plan/* interpolate */.GW)(p.url, scope),
            sha256: p.sha256,
            allowSymlinks: p.allowSymlinks,
        };
    }
    async setWaiting(a, reason) {
        await this.saveActions();
        await this.deps.store.updateAction(a.row.id, { waitingOn: reason });
        if (reason)
            this.event('action.waiting', {
                actionId: a.row.id,
                step: a.row.step,
                target: a.row.target,
                waitingOn: reason,
            });
    }
    async runAction(step, a) {
        const { store } = this.deps;
        const target = a.spec.target ?? null;
        const mutex = target !== null && !this.plan.concurrency.bypassTargetMutex;
        if (mutex && !(await this.lockTarget(target, a))) {
            await this.settle([a], 'cancelled', 'the task was cancelled');
            return false;
        }
        // The action's final state and the release of its target are written together.
        let finished;
        let withTask = false;
        // The action waiting here for the target that gets it when this one ends.
        let next = undefined;
        const handOver = () => {
            next = mutex ? (this.deps.targets.handOver(target.name, this.task.id) ?? undefined) : undefined;
            return next;
        };
        // A release the store refused goes with the task's end, which is written until the store takes it.
        const releaseWithTask = () => {
            if (next) {
                this.handoffsWithTask.push({ target: target.name, taskId: next.taskId, actionId: next.actionId });
                this.passedWithTask.push(next.passed);
            }
            else if (mutex)
                this.releasedWithTask.push(target.name);
        };
        try {
            let result = { ok: false, cancelled: false, exitCode: null, message: '' };
            const firstStart = Date.now();
            for (let attempt = 1; attempt <= step.retries + 1; attempt++) {
                // Chosen per attempt: a retry after `worker lost` goes to a live worker.
                const placed = await this.placeAction(a);
                if (!placed) {
                    result = { ...result, cancelled: true, message: 'cancelled' };
                    break;
                }
                try {
                    result = await this.attempt(step, a, placed.worker, attempt);
                }
                finally {
                    placed.done();
                }
                if (result.ok || result.cancelled || attempt > step.retries)
                    break;
                const delay = Math.min(this.deps.retryBackoffMs * 2 ** (attempt - 1), 60_000);
                this.event('action.retrying', {
                    actionId: a.row.id,
                    step: step.name,
                    target: target?.name ?? null,
                    attempt,
                    message: this.mask(result.message),
                    delayMs: delay,
                });
                await sleep(delay, this.abort.signal);
                if (this.abort.signal.aborted) {
                    result = { ...result, cancelled: true, message: 'cancelled' };
                    break;
                }
            }
            const state = result.ok ? 'succeeded' : result.cancelled ? 'cancelled' : 'failed';
            a.row.state = state;
            this.deps.onActionEnd?.(state, (Date.now() - firstStart) / 1000);
            const message = this.mask(result.message);
            const end = {
                id: a.row.id,
                state,
                finishedAt: Date.now(),
                exitCode: result.exitCode,
                message,
            };
            // The task's last action ends with the task, in its write, which also
            // releases the task's target locks (see endWritten).
            withTask = --this.unfinishedInStep === 0 && a.row.stepIndex === this.steps.length - 1;
            const passTo = handOver();
            if (withTask) {
                this.endsWithTask.push(end);
                releaseWithTask();
            }
            else {
                // After the start: PostgreSQL runs writes side by side, and a start
                // written last would say the action still runs.
                finished = afterStart(a, () => store.finishAction(end, mutex ? target.name : null, passTo)).catch((err) => {
                    // Not lost: the task's end, which is written until the store takes it, writes it again.
                    this.endsWithTask.push(end);
                    releaseWithTask();
                    throw err;
                });
            }
            this.event(`action.${state}`, {
                actionId: a.row.id,
                step: step.name,
                target: target?.name ?? null,
                message,
            });
            return result.ok;
        }
        finally {
            if (mutex && !withTask) {
                // An action that ended by an error has no end written to release it.
                const released = finished ??
                    store.unlockTarget(target.name, a.row.id, handOver()).catch((err) => {
                        releaseWithTask();
                        throw err;
                    });
                const handed = next;
                // Free here at once when no one waits (a lock asked for before its row
                // is gone is refused, and asked again once it is); else passed on once
                // the row is the next action's.
                if (!handed)
                    this.deps.targets.release(target.name, this.task.id);
                this.afterWrite(released.then(() => (handed ? handed.passed() : this.deps.targetReleases.notify(target.name))));
            }
            else if (finished)
                this.afterWrite(finished);
        }
    }
    /**
     * The next action need not wait for an action's end to be written. The
     * embedded store writes in the order writes are made, so the next action's
     * writes commit with the end or after it; PostgreSQL runs them side by side,
     * a round trip saved, and a crash between the two leaves both actions
     * running, which recovery cancels alike. Only the task's end waits for them
     * all (see run); so does a target's release: an action of another node
     * waiting for it is told once it is written, and one here that gets it
     * handed over goes on once the row is its own (see TargetHolds). Starts
     * after the first are not waited for either (see attempt).
     */
    afterWrite(written) {
        this.unwaitedWrites.push(written.catch((err) => {
            this.unwaitedWriteError ??= err;
        }));
    }
    /**
     * Waits for a worker: the one hosting the target (online and under its
     * action cap), or the least busy online worker of the step's pool. Null
     * when the task was cancelled meanwhile.
     */
    async placeAction(a) {
        const { workers } = this.deps;
        const where = a.spec.target ? { target: a.spec.target.name } : { pool: a.spec.pool ?? 'default' };
        let said = null;
        while (!this.abort.signal.aborted) {
            const seen = workers.seen;
            const p = workers.place(where);
            // The action's start, which follows, clears what it waited on.
            if ('worker' in p)
                return p;
            if (p.waitingOn !== said) {
                said = p.waitingOn;
                await this.setWaiting(a, said);
            }
            await workers.changes(seen, 1000, this.abort.signal);
        }
        return null;
    }
    /** One attempt of an action on `worker`. */
    async attempt(step, a, worker, attempt) {
        const target = a.spec.target ?? null;
        a.row.state = 'running';
        // From the first action on, a crash of this node interrupts the task
        // instead of requeueing it: the first start also fences the task.
        const fence = this.actionStarted ? null : this.deps.lease;
        this.actionStarted = true;
        const start = { id: a.row.id, taskId: this.task.id, attempt, worker: worker.name, startedAt: Date.now() };
        // Only the fencing start must be written before a script runs (design
        // rule 8 turns on it); a later start is a record, written while the
        // script starts: the action does not wait a turn of the loop for the
        // commit. The task's end waits for it (see afterWrite).
        if (!fence)
            await this.fenced;
        a.started = afterStart(a, () => this.actionWrite((rows) => this.deps.store.startAction(start, fence, rows)));
        if (fence) {
            this.fenced = a.started;
            await a.started;
        }
        else
            this.afterWrite(a.started);
        this.event('action.started', {
            actionId: a.row.id,
            step: step.name,
            target: target?.name ?? null,
            worker: worker.name,
            attempt,
        });
        this.deps.onActionStart?.(this.task.id);
        return worker.execute({
            actionId: a.row.id,
            kind: step.kind,
            script: step.kind === 'run' && 'inline' in step.script
                ? (0,src_plan/* interpolate */.GW)(step.script.inline, this.scope(step, target))
                : '',
            env: this.env(step, target, attempt, worker),
            timeoutMs: step.timeoutMs,
            target,
            ...(target ? { cwd: this.projectDir(target) } : {}),
            ...(step.kind === 'deploy'
                ? {
                    deploy: {
                        package: this.packageSpec(step.package),
                        release: this.deployment.release,
                        keepReleases: step.keepReleases,
                    },
                }
                : {}),
        }, this.abort.signal, (stream, line) => this.log(line, { stream, actionId: a.row.id, step: step.name, target: target?.name ?? null }));
    }
    /**
     * Waits for the target's mutex; false when the task was cancelled
     * meanwhile. Behind a task of this node it waits in line, and the target
     * is handed to it (see TargetHolds); a target no task here holds is asked
     * of the store, and one another node holds is asked again when it may
     * have been released.
     */
    async lockTarget(target, a) {
        const { targets, targetReleases, store } = this.deps;
        let reason = null;
        const waitingFor = async (holder) => {
            const now = `target ${target.name} busy with task ${holder} (mutex)`;
            if (now === reason)
                return;
            reason = now;
            await this.setWaiting(a, now);
        };
        while (!this.abort.signal.aborted) {
            const heldHere = targets.holder(target.name);
            if (heldHere !== undefined) {
                await waitingFor(heldHere);
                // Released or passed on while the reason was written: look again.
                if (targets.holder(target.name) !== heldHere)
                    continue;
                // Each new holder is said while the action stays in line; its start
                // waits for what was said, so the start (or its end, if the task is
                // cancelled first) is what clears it.
                let said = Promise.resolve();
                const turn = await targets.waitTurn(target.name, this.task.id, a.row.id, this.abort.signal, (h) => {
                    said = said.then(() => waitingFor(h));
                    this.afterWrite(said);
                });
                await said.catch(() => { });
                if (turn === 'handed')
                    return true;
                continue;
            }
            const seen = targetReleases.seen(target.name);
            // Held here from now on, so that a task choosing meanwhile takes another
            // target, or waits in line behind this one.
            targets.hold(target.name, this.task.id);
            let lock;
            try {
                lock = await store.lockTarget(target.name, this.task.id, a.row.id);
            }
            catch (err) {
                targets.release(target.name, this.task.id);
                throw err;
            }
            if (lock.ok)
                return true;
            targets.release(target.name, this.task.id);
            await waitingFor(lock.holder);
            await targetReleases.after(seen, 1000, this.abort.signal, target.name);
        }
        return false;
    }
    /** <root>/<tenant|_>/<project>: tenants sharing a target never share files. */
    projectDir(target) {
        return (0,external_node_path_.join)(target.root, this.task.tenant ?? '_', this.deployment.project);
    }
    scope(step, target) {
        const tenant = this.tenant;
        const scope = {
            project: this.deployment.project,
            environment: this.deployment.environment,
            release: this.deployment.release,
            variables: { ...this.plan.variables, ...tenant?.variables, ...step.variables },
        };
        if (tenant)
            scope.tenant = tenant;
        if (target)
            scope.target = { name: target.name, host: target.host };
        return scope;
    }
    env(step, target, attempt, worker) {
        const tenant = this.tenant;
        const env = {
            ...this.plan.variables,
            ...tenant?.variables,
            ...step.variables,
            ...this.deployment.secrets,
            FLOTILLA_DEPLOYMENT_ID: this.deployment.id,
            FLOTILLA_TASK_ID: this.task.id,
            FLOTILLA_TENANT: this.task.tenant ?? '',
            FLOTILLA_PROJECT: this.deployment.project,
            FLOTILLA_ENVIRONMENT: this.deployment.environment,
            FLOTILLA_RELEASE: this.deployment.release,
            FLOTILLA_STEP: step.name,
            FLOTILLA_TARGET: target?.name ?? '',
            FLOTILLA_WORKER: worker.name,
            FLOTILLA_NODE: this.deps.lease.node,
            FLOTILLA_ATTEMPT: String(attempt),
        };
        if (target) {
            env.FLOTILLA_INSTALL_DIR = (0,external_node_path_.join)(target.root, this.task.tenant ?? '_', this.deployment.project, this.deployment.release);
        }
        return env;
    }
}
/** Runs `write` once the action's last start write has settled, however it went: one action's writes go in order. */
function afterStart(a, write) {
    return (a.started ?? Promise.resolve()).catch(() => { }).then(write);
}
function sleep(ms, signal) {
    return new Promise((resolve) => {
        if (signal.aborted)
            return resolve();
        const t = setTimeout(done, ms);
        function done() {
            clearTimeout(t);
            signal.removeEventListener('abort', done);
            resolve();
        }
        signal.addEventListener('abort', done, { once: true });
    });
}

;// CONCATENATED MODULE: ./runner-agent/src/duration.ts
/** A duration as a person reads it in a message: 250ms, 42s, 3m20s, 2h5m. */
function formatMs(ms) {
    if (ms < 1000)
        return `${ms}ms`;
    const s = Math.round(ms / 1000);
    if (s < 60)
        return `${s}s`;
    const m = Math.floor(s / 60);
    if (m < 60)
        return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
    return `${Math.floor(m / 60)}h${m % 60 ? `${m % 60}m` : ''}`;
}

;// CONCATENATED MODULE: ./runner-agent/src/scheduler/waiting.ts
// Why each queued task waits (design rule 7), in words a person can act on.
// Computed from the store's state when asked, so it is never stale.

/** A task about to be claimed: a node has a free slot. */
const STARTING = 'starting: a node has a free slot';
function waitingReasons(input) {
    const reasons = new Map();
    const holder = new Map(input.running.map((t) => [t.concurrencyTag, t]));
    const runningPerDeployment = new Map();
    for (const t of input.running)
        runningPerDeployment.set(t.deploymentId, (runningPerDeployment.get(t.deploymentId) ?? 0) + 1);
    const headOfTag = new Map();
    const capReason = nodeCapReason(input.nodes);
    for (const task of input.queued) {
        const held = holder.get(task.concurrencyTag);
        const ahead = headOfTag.get(task.concurrencyTag);
        const max = input.maxRunningOf(task.deploymentId);
        const runningHere = runningPerDeployment.get(task.deploymentId) ?? 0;
        let reason;
        if (held) {
            const since = held.startedAt && input.now !== undefined
                ? `, running ${formatMs(Math.max(0, input.now - held.startedAt))}`
                : '';
            reason = `concurrency tag ${task.concurrencyTag} held by task ${held.id} (deployment ${held.deploymentId}${since})`;
        }
        else if (ahead) {
            reason = `concurrency tag ${task.concurrencyTag}: behind task ${ahead.id} (deployment ${ahead.deploymentId}), which was submitted first`;
        }
        else if (max > 0 && runningHere >= max) {
            reason = `deployment ${task.deploymentId} runs ${runningHere} of maxRunningTasks ${max}`;
        }
        else {
            reason = capReason;
        }
        if (!headOfTag.has(task.concurrencyTag))
            headOfTag.set(task.concurrencyTag, task);
        reasons.set(task.id, reason);
    }
    return reasons;
}
function nodeCapReason(nodes) {
    if (nodes.length === 0)
        return 'no node is running: start an agent (flotilla agent)';
    const open = nodes.filter((n) => n.taskCap > 0);
    if (open.length === 0) {
        return nodes.length === 1
            ? `node ${nodes[0].name} is draining (task cap 0); resume it with flotilla resume ${nodes[0].name}`
            : `every node is draining (task cap 0): ${nodes.map((n) => n.name).join(', ')}`;
    }
    const full = open.filter((n) => n.running >= n.taskCap);
    if (full.length === open.length) {
        return `task cap: ${full.map((n) => `node ${n.name} runs ${n.running} of ${n.taskCap}`).join('; ')}`;
    }
    return STARTING;
}

;// CONCATENATED MODULE: ./runner-agent/src/scheduler/coordinator.ts
// The coordinator of one node: accepts deployments, claims queued tasks up to
// the node's task cap, runs them through its worker, and recovers from
// crashes. Every rule that must hold across nodes is enforced by the store;
// this class only decides when to ask.











class ApiError extends Error {
    status;
    code;
    issues;
    constructor(status, code, message, issues) {
        super(message);
        this.status = status;
        this.code = code;
        this.issues = issues;
    }
}
const WAITING_EVERY_MS = 500;
const ANNOUNCE_HEAD = 200;
class Coordinator {
    store;
    events;
    node;
    /** Emits 'taskStarted', 'taskFinished' and 'actionStarted' (task id) for metrics and benchmarks. */
    signals = new external_node_events_.EventEmitter();
    /** The local worker and the remote ones registered with this node. */
    workers;
    opts;
    lease = { node: '', epoch: 0 };
    cap;
    running = new Map();
    deployments = new Map();
    lastWaiting = new Map();
    stopping = false;
    dispatching = false;
    dispatchAgain = false;
    heartbeatTimer = null;
    heartbeatEveryMs = 0;
    lastHeartbeat = 0;
    ticking = false;
    stopWake = null;
    waitingTimer = null;
    targetReleases = new Wakeups();
    targetHolds = new TargetHolds();
    constructor(opts) {
        this.opts = opts;
        this.store = opts.store;
        this.node = opts.node;
        this.cap = opts.taskCap;
        this.workers = new WorkerRegistry({
            local: opts.worker,
            localMaxActions: opts.localMaxActions,
            leaseTtlMs: opts.leaseTtlMs,
        });
        this.events = new EventLog(opts.store, (err) => opts.log.error({ err }, 'could not write events'));
    }
    get taskCap() {
        return this.cap;
    }
    get runningCount() {
        return this.running.size;
    }
    get draining() {
        return this.cap === 0 || this.stopping;
    }
    async start() {
        const row = await this.store.registerNode(this.node, this.opts.taskCap);
        this.lease = { node: row.name, epoch: row.epoch };
        this.cap = row.taskCap;
        // The crash rule for this node's own earlier life, then for any dead node.
        await this.recover({ node: this.node, currentEpoch: row.epoch });
        await this.recover({ staleBefore: (await this.store.now()) - this.opts.leaseTtlMs });
        await this.finishSettledDeployments();
        // Other nodes' news (tasks queued or freed, this node's cap changed) wakes
        // dispatch at once; the tick below is the fallback when a notice is lost.
        this.stopWake =
            this.store.onWake?.((reason) => {
                if (reason !== `node:${this.node}`)
                    this.dispatch();
                else
                    this.refreshCap().catch((err) => this.opts.log.error({ err }, 'could not read the task cap'));
            }) ?? null;
        // Heartbeats every third of the lease; dead nodes are looked for every
        // second, so a dead node's tasks move within about leaseTtl + 1 s.
        this.heartbeatEveryMs = Math.max(200, Math.floor(this.opts.leaseTtlMs / 3));
        this.lastHeartbeat = Date.now();
        this.heartbeatTimer = setInterval(() => void this.tick(), Math.min(1000, this.heartbeatEveryMs));
        this.heartbeatTimer.unref();
        this.workers.start();
        this.dispatch();
        this.scheduleWaiting();
    }
    async tick() {
        if (this.ticking)
            return;
        this.ticking = true;
        try {
            if (Date.now() - this.lastHeartbeat >= this.heartbeatEveryMs) {
                await this.heartbeat();
                await this.refreshCap();
            }
            await this.recover({ staleBefore: (await this.store.now()) - this.opts.leaseTtlMs });
            this.dispatch();
        }
        catch (err) {
            this.opts.log.error({ err }, 'heartbeat failed');
        }
        finally {
            this.ticking = false;
        }
    }
    async heartbeat() {
        const sent = Date.now();
        try {
            await this.store.heartbeat(this.lease);
            this.lastHeartbeat = sent;
        }
        catch (err) {
            if (!(err instanceof types/* StaleLeaseError */.Q2))
                throw err;
            await this.rejoin();
        }
    }
    /**
     * Another node found this node's lease expired (it was too slow to
     * heartbeat, not dead) and took its tasks. Whatever still runs here runs in
     * a lost lease's name: stop it (its writes would be refused anyway), then
     * take a new epoch and carry on.
     */
    async rejoin() {
        this.opts.log.warn({ node: this.node, epoch: this.lease.epoch }, 'lease lost to another node; rejoining');
        for (const runner of this.running.values())
            runner.abort.abort();
        const row = await this.store.registerNode(this.node, this.opts.taskCap);
        this.lease = { node: row.name, epoch: row.epoch };
        this.cap = row.taskCap;
        this.lastHeartbeat = Date.now();
        await this.recover({ node: this.node, currentEpoch: row.epoch });
    }
    async refreshCap() {
        const me = (await this.store.listNodes()).find((n) => n.name === this.node);
        if (me)
            this.cap = me.taskCap;
        this.dispatch();
    }
    async recover(opts) {
        const recovered = await this.store.recoverTasks(opts);
        if (recovered.length > 0)
            this.events.written(recovered.map(rows/* recoveryEvent */.Q6));
        for (const t of recovered)
            this.opts.log.warn({ task: t.id, state: t.state }, t.message ?? 'recovered task');
        for (const id of new Set(recovered.filter((t) => t.state !== 'queued').map((t) => t.deploymentId))) {
            await this.maybeFinishDeployment(id);
        }
    }
    async finishSettledDeployments() {
        for (const d of await this.store.listDeployments(10_000)) {
            if (d.state === 'queued' || d.state === 'running')
                await this.maybeFinishDeployment(d.id);
        }
    }
    // ---- submission -------------------------------------------------------
    async submit(body, baseUrl) {
        const parsed = submitSchema.safeParse(body);
        if (!parsed.success) {
            const issues = (0,src_plan/* zodIssues */.mZ)(parsed.error, body).map((i) => ({
                path: `/${i.path.join('/')}`,
                message: i.message,
            }));
            throw new ApiError(400, 'invalid_request', 'the request body is not a valid submission', issues);
        }
        const req = parsed.data;
        const planResult = loadSubmittedPlan(req.plan);
        if (!planResult.ok)
            throw new ApiError(400, 'invalid_plan', 'the plan is not valid', planResult.issues);
        const plan = planResult.plan;
        const unresolved = plan.steps.filter((s) => s.kind === 'run' && 'path' in s.script);
        if (unresolved.length) {
            throw new ApiError(400, 'invalid_plan', 'script paths must be resolved by the client before submission', unresolved.map((s) => ({
                path: `/steps/${plan.steps.indexOf(s)}/run`,
                message: 'a script path reached the agent; clients (flotilla deploy, the action) send the script text',
            })));
        }
        const unsent = Object.values(plan.packages).filter((p) => p.source === 'upload' && !p.sha256);
        if (unsent.length) {
            throw new ApiError(400, 'invalid_plan', 'upload packages must be uploaded by the client before submission', unsent.map((p) => ({
                path: `/packages/${p.name}/sha256`,
                message: 'an upload package reached the agent without its sha256; clients (flotilla deploy, the action) upload the file and set it',
            })));
        }
        const spec = (0,src_plan/* expandDeployment */.IQ)(plan, {
            release: req.release,
            environment: req.environment,
            tenants: req.tenants,
            defaultRelease: req.github?.sha.slice(0, 7),
        });
        if (!spec.ok)
            throw new ApiError(400, 'invalid_plan', 'the plan cannot be deployed as asked', spec.issues);
        const inventoryIssues = (0,src_plan/* checkInventory */.Lb)(plan, spec.value, this.workers.targets());
        if (inventoryIssues.length) {
            throw new ApiError(400, 'invalid_plan', "the plan's steps do not match this agent's targets", inventoryIssues);
        }
        const result = await this.store.createDeployment({
            idempotencyKey: req.idempotencyKey,
            project: spec.value.project,
            environment: spec.value.environment,
            release: spec.value.release,
            plan,
            github: req.github,
            secrets: req.secrets ?? {},
            tasks: spec.value.tasks.map((t) => ({
                tenant: t.tenant?.name ?? null,
                concurrencyTag: t.concurrencyTag,
            })),
        });
        if (!result.created)
            return result;
        const { deployment, tasks } = result;
        this.events.emit({
            deploymentId: deployment.id,
            taskId: null,
            type: 'deployment.queued',
            data: { url: `${baseUrl}/v1/deployments/${deployment.id}`, tasks: tasks.length },
        });
        for (const t of tasks) {
            this.events.emit({
                deploymentId: deployment.id,
                taskId: t.id,
                type: 'task.queued',
                data: { tenant: t.tenant, concurrencyTag: t.concurrencyTag },
            });
        }
        if (plan.supersede && tasks.length > 0) {
            const superseded = await this.store.supersedeQueued(tasks.map((t) => t.concurrencyTag), tasks[0].seq, `superseded by deployment ${deployment.id}`);
            for (const t of superseded) {
                this.events.emit({
                    deploymentId: t.deploymentId,
                    taskId: t.id,
                    type: 'task.finished',
                    data: { state: 'cancelled', tenant: t.tenant, message: t.message },
                });
            }
            for (const id of new Set(superseded.map((t) => t.deploymentId)))
                await this.maybeFinishDeployment(id);
        }
        await this.events.flush();
        this.dispatch();
        return result;
    }
    // ---- dispatch ---------------------------------------------------------
    /** Claims tasks for free slots; coalesces calls made while a claim is under way. */
    dispatch() {
        if (this.dispatching) {
            this.dispatchAgain = true;
            return;
        }
        this.dispatching = true;
        void (async () => {
            try {
                do {
                    this.dispatchAgain = false;
                    const free = this.stopping ? 0 : this.cap - this.running.size;
                    if (free <= 0)
                        break;
                    const claimed = await this.store.claimTasks(this.lease, free);
                    for (const task of claimed)
                        await this.startTask(task);
                } while (this.dispatchAgain);
            }
            catch (err) {
                this.opts.log.error({ err }, 'dispatch failed');
            }
            finally {
                this.dispatching = false;
            }
        })();
    }
    async deployment(id) {
        let d = this.deployments.get(id);
        if (!d) {
            d = (await this.store.getDeployment(id));
            this.deployments.set(id, d);
        }
        return d;
    }
    async startTask(task) {
        const deployment = await this.deployment(task.deploymentId);
        if (deployment.state === 'queued') {
            deployment.state = 'running';
            if (await this.store.setDeploymentState(deployment.id, 'running')) {
                this.events.emit({ deploymentId: deployment.id, taskId: null, type: 'deployment.running', data: {} });
            }
        }
        const lease = this.lease;
        this.lastWaiting.delete(task.id);
        this.events.emit({
            deploymentId: deployment.id,
            taskId: task.id,
            type: 'task.started',
            data: { tenant: task.tenant, node: this.node },
        });
        const runner = new TaskRunner({
            store: this.store,
            events: this.events,
            workers: this.workers,
            lease,
            retryBackoffMs: this.opts.retryBackoffMs,
            targetReleases: this.targetReleases,
            targets: this.targetHolds,
            onActionStart: (id) => this.signals.emit('actionStarted', id),
            onActionEnd: (state, seconds) => this.signals.emit('actionEnded', { state, seconds }),
            onPackage: (r) => this.signals.emit('packageAcquired', r),
        }, task, deployment);
        this.running.set(task.id, runner);
        this.signals.emit('taskStarted', task.id);
        void runner
            .run()
            .catch((err) => {
            this.opts.log.error({ err, task: task.id }, 'task failed unexpectedly');
            return { state: 'failed', message: `internal error: ${err.message}` };
        })
            .then(async (outcome) => {
            try {
                await this.recordEnd(task, lease, outcome, runner);
                this.events.emit({
                    deploymentId: deployment.id,
                    taskId: task.id,
                    type: 'task.finished',
                    data: { state: outcome.state, tenant: task.tenant, message: outcome.message },
                });
            }
            catch (err) {
                if (!(err instanceof types/* StaleLeaseError */.Q2))
                    throw err;
                this.opts.log.warn({ task: task.id }, err.message);
            }
            finally {
                if (this.running.get(task.id) === runner)
                    this.running.delete(task.id);
                runner.endWritten();
            }
            this.signals.emit('taskFinished', task.id);
            this.signals.emit('taskEnded', {
                state: outcome.state,
                seconds: (Date.now() - (task.startedAt ?? Date.now())) / 1000,
            });
            this.dispatch();
            // While another of its tasks runs here, the deployment is open, and
            // that task's end looks again: only the last one here probes.
            if (![...this.running.values()].some((r) => r.deploymentId === deployment.id)) {
                await this.maybeFinishDeployment(deployment.id);
            }
        })
            .catch((err) => this.opts.log.error({ err, task: task.id }, 'could not record the end of a task'));
    }
    /**
     * Writes a task's end under the lease it was claimed under (after a rejoin,
     * the new epoch may hold a new run of the same task). A store that fails
     * for a moment is asked again: until the end is written, the task holds its
     * slot and its tag.
     */
    async recordEnd(task, lease, outcome, runner) {
        for (let delay = 100;; delay = Math.min(delay * 2, 5000)) {
            try {
                return await this.store.finishTask(task.id, lease, outcome.state, outcome.message, runner.endsWithTask, runner.handoffsWithTask);
            }
            catch (err) {
                if (err instanceof types/* StaleLeaseError */.Q2)
                    throw err;
                this.opts.log.error({ err, task: task.id }, `could not record the end of the task; again in ${delay} ms`);
                await new Promise((r) => setTimeout(r, delay));
            }
        }
    }
    async maybeFinishDeployment(id) {
        // Called after every task; the probe keeps that cheap for deployments of thousands of tasks.
        if (await this.store.hasOpenTasks(id))
            return;
        const tasks = await this.store.tasksOf(id);
        if (tasks.some((t) => !types/* TERMINAL_TASK_STATES */.oi.includes(t.state)))
            return;
        const state = tasks.some((t) => t.state === 'failed' || t.state === 'interrupted')
            ? 'failed'
            : tasks.some((t) => t.state === 'cancelled')
                ? 'cancelled'
                : 'succeeded';
        this.deployments.delete(id);
        // Another node may have ended it meanwhile: only the one that did says so.
        if (!(await this.store.setDeploymentState(id, state)))
            return;
        const count = (s) => tasks.filter((t) => t.state === s).length;
        this.events.emit({
            deploymentId: id,
            taskId: null,
            type: 'deployment.finished',
            data: {
                state,
                succeeded: count('succeeded'),
                failed: count('failed'),
                interrupted: count('interrupted'),
                cancelled: count('cancelled'),
            },
        });
        await this.events.flush();
    }
    // ---- why tasks wait ---------------------------------------------------
    scheduleWaiting() {
        this.waitingTimer = setInterval(() => void this.announceWaiting(), WAITING_EVERY_MS);
        this.waitingTimer.unref();
    }
    /**
     * Emits task.waiting for queued tasks whose reason changed. Only the head of
     * the queue is announced: a task's reason depends only on the tasks ahead of
     * it, so the prefix is exact, and a queue of thousands costs no more than
     * its head. The momentary "starting" reason is not worth an event.
     *
     * Reasons come from the shared store, so every node would find the same
     * ones: only the first live node by name announces them, and a deployment's
     * log says each once. When that node dies, the next one takes over once its
     * lease has expired.
     */
    async announceWaiting() {
        try {
            const nodes = await this.liveNodes();
            if (nodes.length > 0 && nodes[0].name !== this.node) {
                this.lastWaiting.clear();
                return;
            }
            const { queued, reasons } = await this.computeWaiting({ limit: ANNOUNCE_HEAD, nodes });
            for (const task of queued) {
                const reason = reasons.get(task.id);
                if (!reason || reason === STARTING || this.lastWaiting.get(task.id) === reason)
                    continue;
                this.lastWaiting.set(task.id, reason);
                this.events.emit({
                    deploymentId: task.deploymentId,
                    taskId: task.id,
                    type: 'task.waiting',
                    data: { waitingOn: reason },
                });
            }
            for (const id of this.lastWaiting.keys())
                if (!reasons.has(id))
                    this.lastWaiting.delete(id);
        }
        catch (err) {
            this.opts.log.error({ err }, 'could not compute why tasks wait');
        }
    }
    /** Nodes whose agent runs and whose lease holds at `now` (the store's clock when not given). */
    async liveNodes(now) {
        const at = now ?? (await this.store.now());
        return (await this.store.listNodes()).filter((n) => (0,rows/* nodeIsLive */.Z7)(n, at, this.opts.leaseTtlMs));
    }
    /** Why each queued task waits, by task id. */
    async waitingOn() {
        const now = await this.store.now();
        return (await this.computeWaiting({ nodes: await this.liveNodes(now), now })).reasons;
    }
    /** Why the first `limit` queued tasks (all without it) wait; `now` adds how long tags have been held. */
    async computeWaiting(opts) {
        const [queued, running] = await Promise.all([
            this.store.queuedTasks(opts.limit),
            this.store.runningTasks(),
        ]);
        const maxRunning = new Map();
        for (const t of queued) {
            if (!maxRunning.has(t.deploymentId)) {
                const d = await this.deployment(t.deploymentId);
                maxRunning.set(t.deploymentId, d.plan.concurrency.maxRunningTasks);
            }
        }
        const reasons = waitingReasons({
            queued,
            running,
            nodes: opts.nodes,
            now: opts.now,
            maxRunningOf: (id) => maxRunning.get(id) ?? 0,
        });
        return { queued, reasons };
    }
    // ---- control ----------------------------------------------------------
    async cancel(deploymentId) {
        const d = await this.store.getDeployment(deploymentId);
        if (!d)
            throw new ApiError(404, 'not_found', `deployment ${deploymentId} does not exist`);
        const cancelled = await this.store.cancelQueued(deploymentId, 'cancelled');
        for (const t of cancelled) {
            this.events.emit({
                deploymentId,
                taskId: t.id,
                type: 'task.finished',
                data: { state: 'cancelled', tenant: t.tenant, message: 'cancelled while queued' },
            });
        }
        for (const runner of this.running.values())
            if (runner.deploymentId === deploymentId)
                runner.abort.abort();
        await this.maybeFinishDeployment(deploymentId);
        await this.events.flush();
    }
    async setCap(name, cap) {
        const row = await this.store.setTaskCap(name, cap);
        if (!row)
            throw new ApiError(404, 'not_found', `node ${name} does not exist`);
        return this.capChanged(row);
    }
    async drain(name) {
        const row = await this.store.drainNode(name);
        if (!row)
            throw new ApiError(404, 'not_found', `node ${name} does not exist`);
        return this.capChanged(row);
    }
    async resume(name) {
        const row = await this.store.resumeNode(name, this.opts.taskCap);
        if (!row)
            throw new ApiError(404, 'not_found', `node ${name} does not exist`);
        return this.capChanged(row);
    }
    capChanged(row) {
        if (row.name === this.node)
            this.cap = row.taskCap;
        this.dispatch();
        void this.announceWaiting();
        return row;
    }
    /** SIGTERM: take no new task, let running ones finish, then close. */
    async stop() {
        this.stopping = true;
        while (this.running.size > 0)
            await new Promise((r) => this.signals.once('taskFinished', r));
        if (this.heartbeatTimer)
            clearInterval(this.heartbeatTimer);
        this.stopWake?.();
        if (this.waitingTimer)
            clearInterval(this.waitingTimer);
        while (this.dispatching)
            await new Promise((r) => setTimeout(r, 5));
        this.workers.stop();
        await this.events.flush();
        await this.store
            .leaveNode(this.lease)
            .catch((err) => this.opts.log.error({ err }, 'could not record the stop'));
    }
}
function loadSubmittedPlan(plan) {
    if (typeof plan !== 'string')
        return (0,src_plan/* validatePlanValue */.T$)(plan);
    const source = (0,src_plan/* parsePlanSource */.iH)(plan);
    return source.ok ? (0,src_plan/* validatePlanValue */.T$)(source.value, source.locate) : source;
}

// EXTERNAL MODULE: ./runner-agent/src/packages/cache.ts
var packages_cache = __webpack_require__(61126);
// EXTERNAL MODULE: ./runner-agent/src/packages/errors.ts
var errors = __webpack_require__(13281);
;// CONCATENATED MODULE: ./runner-agent/src/packages/routes.ts



function packageRoutes(cache, guard) {
    return async (app) => {
        app.removeAllContentTypeParsers();
        app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
        const shaOf = (req) => {
            const { sha256 } = req.params;
            if (!packages_cache/* SHA256 */.a.test(sha256)) {
                throw new ApiError(400, 'invalid_request', `${sha256.slice(0, 80)} is not a sha256 (64 lowercase hex characters)`);
            }
            return sha256;
        };
        app.head('/v1/packages/:sha256', { preHandler: guard }, async (req, reply) => reply.status(cache.has(shaOf(req)) ? 200 : 404).send());
        app.post('/v1/packages/:sha256', { preHandler: guard }, async (req, reply) => {
            const sha256 = shaOf(req);
            const limit = Math.min(cache.settings.maxPackageBytes, cache.settings.maxCacheBytes);
            const length = Number(req.headers['content-length'] ?? Number.NaN);
            if (length > limit) {
                throw new ApiError(413, 'body_too_large', `the package is ${length} bytes; this agent takes at most ${limit}`);
            }
            try {
                const r = await cache.put(sha256, req.body ?? req.raw);
                return reply.status(r.created ? 201 : 200).send({ sha256, bytes: r.bytes, created: r.created });
            }
            catch (err) {
                if (!(err instanceof errors/* PackageError */.J))
                    throw err;
                // The rest of a refused body is not worth reading.
                reply.header('connection', 'close');
                throw new ApiError(err.code === 'too_large' ? 413 : 400, err.code, err.message);
            }
        });
    };
}

// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(73024);
// EXTERNAL MODULE: ./runner-agent/src/config/schema.ts
var schema = __webpack_require__(83004);
;// CONCATENATED MODULE: ./runner-agent/src/worker/protocol.ts
// The wire between a coordinator and its remote workers (flotilla worker):
// registration, the long-poll answer, log batches and results. One schema for
// both sides, so neither can drift from the other.


const protocol_name = schemas/* string */.YjP().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'use letters, digits, ".", "_" and "-"');
const registerSchema = schemas/* strictObject */.rej({
    name: protocol_name,
    pools: schemas/* array */.YOg(protocol_name).min(1),
    // Remote targets need their root: deploy steps install below it on the worker's machine.
    targets: schemas/* array */.YOg(schema/* targetConfigSchema */.x.required({ host: true, root: true })),
    maxActions: schemas/* number */.aig().int().min(1).max(1000).default(10),
});
/** A poll; `draining` says the worker is stopping: it finishes what it runs and takes nothing new. */
const pollSchema = schemas/* strictObject */.rej({
    epoch: schemas/* number */.aig().int().min(1),
    draining: schemas/* boolean */.zMY().optional(),
});
const lineSchema = schemas/* strictObject */.rej({ stream: schemas/* enum */.k5n(['stdout', 'stderr']), line: schemas/* string */.YjP() });
const logBatchSchema = schemas/* strictObject */.rej({
    epoch: schemas/* number */.aig().int().min(1),
    lines: schemas/* array */.YOg(lineSchema).max(10_000),
});
const resultSchema = schemas/* strictObject */.rej({
    epoch: schemas/* number */.aig().int().min(1),
    result: schemas/* union */.KCZ([
        schemas/* strictObject */.rej({
            ok: schemas/* boolean */.zMY(),
            cancelled: schemas/* boolean */.zMY(),
            exitCode: schemas/* number */.aig().int().nullable(),
            message: schemas/* string */.YjP(),
        }),
        schemas/* strictObject */.rej({
            acquired: schemas/* strictObject */.rej({
                sha256: schemas/* string */.YjP(),
                path: schemas/* string */.YjP(),
                bytes: schemas/* number */.aig(),
                seconds: schemas/* number */.aig(),
                cache: schemas/* enum */.k5n(['hit', 'miss', 'joined']),
            }),
        }),
        schemas/* strictObject */.rej({ error: schemas/* string */.YjP() }),
    ]),
});

;// CONCATENATED MODULE: ./runner-agent/src/worker/routes.ts
// The coordinator's endpoints for remote workers: register, long-poll for
// jobs, send log batches and results (all with the `worker` scope), fetch an
// uploaded package's bytes, and list workers (`read`).







/** Longest a poll is held: well inside the lease, so a held poll is itself a heartbeat. */
const MAX_HOLD_MS = 20_000;
const DRAINING_HOLD_MS = 500;
function parse(schema, body, what) {
    const r = schema.safeParse(body);
    if (r.success)
        return r.data;
    throw new ApiError(400, 'invalid_request', `the body is not a valid ${what}`, (0,src_plan/* zodIssues */.mZ)(r.error, body).map((i) => ({ path: `/${i.path.join('/')}`, message: i.message })));
}
function mapped(fn) {
    try {
        return fn();
    }
    catch (err) {
        if (err instanceof StaleEpochError)
            throw new ApiError(409, 'stale_epoch', err.message);
        if (err instanceof RegistryError)
            throw new ApiError(err.status, err.status === 404 ? 'unknown_worker' : 'conflict', err.message);
        throw err;
    }
}
function workerRoutes(opts) {
    const { registry } = opts;
    const holdMs = Math.min(MAX_HOLD_MS, Math.floor(opts.leaseTtlMs / 3));
    return async (app) => {
        app.get('/v1/workers', { preHandler: opts.read }, async () => registry.list());
        app.post('/v1/workers', { preHandler: opts.worker }, async (req, reply) => {
            const reg = parse(registerSchema, req.body, 'worker registration');
            const w = mapped(() => registry.register(reg));
            const answer = { epoch: w.epoch, leaseTtlMs: opts.leaseTtlMs, pollMs: holdMs };
            return reply.status(201).send(answer);
        });
        app.post('/v1/workers/:name/poll', { preHandler: opts.worker }, async (req, reply) => {
            const { epoch, draining } = parse(pollSchema, req.body, 'poll');
            const w = mapped(() => registry.remote(req.params.name));
            // The response closes early only when the worker's connection died.
            const gone = new Promise((resolve) => reply.raw.once('close', () => resolve()));
            if (draining)
                mapped(() => w.drain(epoch));
            // A draining worker looks in often, to stop soon after its last job.
            return await mapped(() => w.poll(epoch, w.draining ? DRAINING_HOLD_MS : holdMs, gone));
        });
        app.post('/v1/workers/:name/jobs/:job/log', { preHandler: opts.worker }, async (req) => {
            const batch = parse(logBatchSchema, req.body, 'log batch');
            mapped(() => registry.remote(req.params.name).log(batch.epoch, req.params.job, batch.lines));
            return { ok: true };
        });
        app.post('/v1/workers/:name/jobs/:job/result', { preHandler: opts.worker }, async (req) => {
            const body = parse(resultSchema, req.body, 'job result');
            const known = mapped(() => registry.remote(req.params.name).result(body.epoch, req.params.job, body.result));
            if (!known)
                throw new ApiError(409, 'unknown_job', `job ${req.params.job} is not running on worker ${req.params.name}`);
            return { ok: true };
        });
        // Uploaded packages live in the coordinator's cache; workers fetch them from here.
        app.get('/v1/packages/:sha256', 
        // HEAD is the upload client's route (packages/routes.ts).
        { preHandler: opts.worker, exposeHeadRoute: false }, async (req, reply) => {
            const { sha256 } = req.params;
            if (!packages_cache/* SHA256 */.a.test(sha256))
                throw new ApiError(400, 'invalid_request', `${sha256.slice(0, 80)} is not a sha256 (64 lowercase hex characters)`);
            if (!opts.packages.has(sha256))
                throw new ApiError(404, 'not_found', `package ${sha256} was not uploaded to this agent`);
            return reply.type('application/octet-stream').send((0,external_node_fs_.createReadStream)(opts.packages.pathOf(sha256)));
        });
    };
}

;// CONCATENATED MODULE: ./runner-agent/src/api/auth.ts
// Who may call the API. Static tokens are stored only as their sha256, so a
// leaked config file leaks no credential; comparison is constant-time. GitHub
// OIDC tokens are verified with jose against the issuer's JWKS and then
// matched against allow rules on their claims. A refusal names the rule that
// failed and never echoes the token.

const SCOPES = (/* unused pure expression or super */ null && (['deploy', 'drain', 'read', 'worker']));
/** Claims an allow rule may pin; a token passes when every key of one rule equals its claim. */
const ALLOW_CLAIMS = [
    'repository',
    'repository_id',
    'repository_owner',
    'environment',
    'ref',
    'workflow_ref',
    'event_name',
];
/** What an OIDC principal may do unless its rule lists scopes: everything a workflow needs, not `worker`. */
const OIDC_DEFAULT_SCOPES = ['deploy', 'drain', 'read'];
/** Clock skew tolerated on exp, nbf and iat, between runner, GitHub and this machine. */
const SKEW_SECONDS = 60;
/** GitHub's tokens live 5 to 60 minutes; an older iat means a token kept around too long. */
const MAX_TOKEN_AGE_SECONDS = 60 * 60;
function authEnabled(settings) {
    return settings.tokens.length > 0 || settings.oidc !== undefined;
}
function sha256Hex(text) {
    return (0,external_node_crypto_.createHash)('sha256').update(text).digest('hex');
}
const refuse = (status, message) => ({ ok: false, status, message });
/** A JWS compact serialisation: three base64url parts, the first a JSON header. */
function looksLikeJwt(token) {
    return /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/.test(token);
}
class Authenticator {
    settings;
    // jose is loaded with the first OIDC token, so agents on static tokens never load it.
    jose = null;
    /**
     * Records a token id (jti) until the token expires; false for one seen
     * before. A token is good for one request on any node: the ids live in the
     * store that the nodes share, and outlive a restart.
     */
    useTokenId;
    constructor(settings, useTokenId) {
        this.settings = settings;
        this.useTokenId = useTokenId;
    }
    verifier(oidc) {
        this.jose ??= __webpack_require__.e(/* import() */ 460).then(__webpack_require__.bind(__webpack_require__, 6460)).then(({ createRemoteJWKSet, jwtVerify }) => ({
            verify: jwtVerify,
            jwks: createRemoteJWKSet(new URL(oidc.jwksUrl ?? `${oidc.issuer.replace(/\/+$/, '')}/.well-known/jwks`)),
        }));
        return this.jose;
    }
    get enabled() {
        return authEnabled(this.settings);
    }
    async authorize(header, scope) {
        if (!this.enabled)
            return { ok: true, principal: 'anonymous (no auth configured; loopback only)' };
        const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
        if (!m)
            return refuse(401, 'an Authorization: Bearer <token> header is required');
        const token = m[1];
        if (this.settings.oidc && looksLikeJwt(token))
            return this.oidc(token, scope);
        return this.staticToken(token, scope);
    }
    staticToken(token, scope) {
        const digest = Buffer.from(sha256Hex(token), 'hex');
        const rule = this.settings.tokens.find((t) => (0,external_node_crypto_.timingSafeEqual)(Buffer.from(t.sha256, 'hex'), digest));
        if (!rule)
            return refuse(401, 'the token matches no configured token (auth.tokens)');
        if (!rule.scopes.includes(scope)) {
            return refuse(403, `token ${rule.name} lacks scope ${scope} (it has ${rule.scopes.join(', ')})`);
        }
        return { ok: true, principal: `token ${rule.name}` };
    }
    async oidc(token, scope) {
        const oidc = this.settings.oidc;
        let claims;
        try {
            const { verify, jwks } = await this.verifier(oidc);
            ({ payload: claims } = await verify(token, jwks, {
                algorithms: ['RS256'],
                issuer: oidc.issuer,
                audience: oidc.audience,
                clockTolerance: SKEW_SECONDS,
                maxTokenAge: MAX_TOKEN_AGE_SECONDS,
                requiredClaims: ['exp', 'iat', 'jti'],
            }));
        }
        catch (err) {
            return refuse(401, `OIDC token refused: ${joseRule(err, oidc)}`);
        }
        // Accepted until exp plus the clock skew allowed, so remembered as long.
        if (!(await this.useTokenId(String(claims.jti), (Number(claims.exp) + SKEW_SECONDS) * 1000))) {
            return refuse(401, 'OIDC token refused: rule jti: this token was already used (replay); request a new one');
        }
        const mismatches = [];
        for (const [i, rule] of oidc.allow.entries()) {
            const wrong = ALLOW_CLAIMS.filter((k) => rule[k] !== undefined && String(claims[k]) !== rule[k]);
            if (wrong.length === 0) {
                const scopes = rule.scopes ?? OIDC_DEFAULT_SCOPES;
                if (!scopes.includes(scope)) {
                    return refuse(403, `auth.oidc.allow[${i}] does not grant scope ${scope} (it grants ${scopes.join(', ')})`);
                }
                return { ok: true, principal: `oidc ${claims.repository ?? claims.sub} (${claims.ref ?? ''})` };
            }
            mismatches.push(`allow[${i}]: ${wrong.map((k) => `${k} must be ${rule[k]}, token has ${claims[k] ?? '(none)'}`).join('; ')}`);
        }
        return refuse(403, `OIDC token matches no auth.oidc.allow rule: ${mismatches.join(' | ')}`);
    }
}
/** Names the verification rule a jose error (known by its code) stands for. */
function joseRule(err, oidc) {
    const e = err;
    switch (e.code) {
        case 'ERR_JWT_EXPIRED':
            return e.claim === 'iat'
                ? `rule iat: issued more than ${MAX_TOKEN_AGE_SECONDS}s ago`
                : 'rule exp: the token has expired';
        case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
            const expected = {
                iss: `rule iss: the issuer must be ${oidc.issuer}`,
                aud: `rule aud: the audience must be ${oidc.audience}`,
                nbf: 'rule nbf: the token is not valid yet',
                iat: 'rule iat: issued in the future',
            };
            return (expected[e.claim ?? ''] ??
                `rule ${e.claim}: ${e.reason === 'missing' ? 'claim missing' : 'check failed'}`);
        }
        case 'ERR_JOSE_ALG_NOT_ALLOWED':
            return 'rule alg: only RS256 is accepted';
        case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
            return 'rule signature: the signature does not verify';
        case 'ERR_JWKS_NO_MATCHING_KEY':
            return "rule kid: no key of the issuer's JWKS signed this token";
        case 'ERR_JWS_INVALID':
        case 'ERR_JWT_INVALID':
            return `rule format: ${e.message}`;
        default:
            // Anything else is the key set: unreachable, timed out, or not a JWKS.
            return `rule jwks: the issuer's keys could not be fetched (${e.message})`;
    }
}

;// CONCATENATED MODULE: ./runner-agent/src/api/metrics.ts
/** `a="x",b="y"`, in the order given, values escaped as the format wants. */
function labelText(labels) {
    let text = '';
    for (const k in labels) {
        const v = labels[k];
        // Called for every action that ends: most values need no escaping.
        const escaped = /[\\\n"]/.test(v)
            ? v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
            : v;
        text += `${text ? ',' : ''}${k}="${escaped}"`;
    }
    return text;
}
/** One sample line; `labels` as labelText writes them. */
function sample(name, labels, value) {
    return `${name}${labels ? `{${labels}}` : ''} ${value}`;
}
/** A metric's text: its HELP and TYPE lines, then its samples. */
function block(name, help, type, samples) {
    return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples].join('\n');
}
// Counters and histograms keep their series by label values (as labelText
// writes them), in the order first seen, as prom-client lists them.
function counter(name, help) {
    const series = new Map();
    return {
        inc(labels, by = 1) {
            const key = labelText(labels);
            series.set(key, (series.get(key) ?? 0) + by);
        },
        text: () => block(name, help, 'counter', [...series].map(([labels, v]) => sample(name, labels, v))),
    };
}
/** Buckets are cumulative in the text: a sample counts in every bucket whose bound it does not pass. */
function histogram(name, help, bounds) {
    const series = new Map();
    return {
        observe(labels, value) {
            const key = labelText(labels);
            let s = series.get(key);
            if (!s) {
                s = { buckets: bounds.map(() => 0), sum: 0, count: 0 };
                series.set(key, s);
            }
            const i = bounds.findIndex((b) => value <= b);
            if (i >= 0)
                s.buckets[i] += 1;
            s.sum += value;
            s.count += 1;
        },
        text: () => block(name, help, 'histogram', [...series].flatMap(([labels, s]) => {
            const rest = labels ? `,${labels}` : '';
            let cumulative = 0;
            return [
                ...bounds.map((b, i) => {
                    cumulative += s.buckets[i];
                    return sample(`${name}_bucket`, `le="${b}"${rest}`, cumulative);
                }),
                sample(`${name}_bucket`, `le="+Inf"${rest}`, s.count),
                sample(`${name}_sum`, labels, s.sum),
                sample(`${name}_count`, labels, s.count),
            ];
        })),
    };
}
function createMetrics(co) {
    const taskDuration = histogram('flotilla_task_duration_seconds', 'Task run time, by final state', [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600]);
    const actionDuration = histogram('flotilla_action_duration_seconds', 'Action run time, by final state', [0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900]);
    const tasksFinished = counter('flotilla_tasks_finished_total', 'Tasks that ended, by state');
    co.signals.on('taskEnded', (e) => {
        taskDuration.observe({ state: e.state }, e.seconds);
        tasksFinished.inc({ state: e.state });
    });
    co.signals.on('actionEnded', (e) => actionDuration.observe({ state: e.state }, e.seconds));
    const acquisitions = counter('flotilla_package_acquisitions_total', 'Package acquisitions by worker and cache result (hit, miss, joined: waited for a download under way, failed)');
    const downloaded = counter('flotilla_package_downloaded_bytes_total', 'Package bytes downloaded (cache misses), by worker');
    const acquireSeconds = histogram('flotilla_package_acquire_seconds', 'Time to acquire a package, by cache result', [0.001, 0.01, 0.1, 0.5, 1, 5, 15, 60, 300]);
    co.signals.on('packageAcquired', (r) => {
        if (!('cache' in r))
            return acquisitions.inc({ worker: r.worker, cache: 'failed' });
        acquisitions.inc({ worker: r.worker, cache: r.cache });
        acquireSeconds.observe({ cache: r.cache }, r.seconds);
        if (r.cache === 'miss')
            downloaded.inc({ worker: r.worker }, r.bytes);
    });
    const gauge = (name, help, series) => block(name, help, 'gauge', series.map(([labels, v]) => sample(name, labelText(labels), v)));
    const render = async () => {
        const [queued, now, nodes] = await Promise.all([
            co.store.queuedTasks(),
            co.store.now(),
            co.store.listNodes(),
        ]);
        const oldest = queued.reduce((min, t) => Math.min(min, t.queuedAt), now);
        const blocks = [
            gauge('flotilla_queue_depth', 'Tasks queued, waiting to start', [[{}, queued.length]]),
            gauge('flotilla_oldest_queued_age_seconds', 'Age of the oldest queued task', [
                [{}, (now - oldest) / 1000],
            ]),
            gauge('flotilla_running_tasks', 'Tasks running, per node', nodes.map((n) => [{ node: n.name }, n.running])),
            gauge('flotilla_task_cap', 'Task cap, per node (0 while draining)', nodes.map((n) => [{ node: n.name }, n.taskCap])),
            taskDuration.text(),
            actionDuration.text(),
            tasksFinished.text(),
            acquisitions.text(),
            downloaded.text(),
            acquireSeconds.text(),
        ];
        return `${blocks.join('\n\n')}\n`;
    };
    return { contentType: 'text/plain; version=0.0.4; charset=utf-8', render };
}

;// CONCATENATED MODULE: ./runner-agent/src/api/views.ts

const iso = (ms) => (ms === null ? null : new Date(ms).toISOString());
function taskView(t, waitingOn, actions) {
    return {
        id: t.id,
        tenant: t.tenant,
        concurrencyTag: t.concurrencyTag,
        state: t.state,
        node: t.node,
        queuedAt: iso(t.queuedAt),
        startedAt: iso(t.startedAt),
        finishedAt: iso(t.finishedAt),
        message: t.message,
        waitingOn,
        ...(actions ? { actions: actions.map(actionView) } : {}),
    };
}
function actionView(a) {
    return {
        id: a.id,
        step: a.step,
        target: a.target,
        worker: a.worker,
        state: a.state,
        attempt: a.attempt,
        startedAt: iso(a.startedAt),
        finishedAt: iso(a.finishedAt),
        exitCode: a.exitCode,
        message: a.message,
        waitingOn: a.state === 'pending' ? a.waitingOn : null,
    };
}
function deploymentView(d, baseUrl, tasks, waiting, actions) {
    const byTask = Map.groupBy(actions, (a) => a.taskId);
    return {
        id: d.id,
        url: `${baseUrl}/v1/deployments/${d.id}`,
        project: d.project,
        environment: d.environment,
        release: d.release,
        state: d.state,
        createdAt: iso(d.createdAt),
        finishedAt: iso(d.finishedAt),
        tasks: tasks.map((t) => taskView(t, waiting.get(t.id) ?? null, byTask.get(t.id) ?? [])),
    };
}
function nodeView(n, now, leaseTtlMs) {
    return {
        name: n.name,
        taskCap: n.taskCap,
        running: n.running,
        draining: n.taskCap === 0,
        live: (0,rows/* nodeIsLive */.Z7)(n, now, leaseTtlMs),
        lastHeartbeat: iso(n.heartbeatAt),
    };
}
function eventView(e) {
    return { id: e.id, type: e.type, taskId: e.taskId, at: iso(e.at), data: e.data };
}

;// CONCATENATED MODULE: ./runner-agent/src/api/sse.ts

const PAGE = 1000;
const KEEPALIVE_MS = 15_000;
// Events written by other nodes (several nodes on one database) arrive by polling.
const POLL_MS = 1000;
async function sendEvents(req, reply, opts) {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
    });
    res.write('retry: 1000\n\n');
    let last = opts.after;
    let closed = false;
    let pumping = false;
    let again = false;
    const pump = async () => {
        if (pumping) {
            again = true;
            return;
        }
        pumping = true;
        try {
            do {
                again = false;
                for (;;) {
                    const page = await opts.store.eventsSince(opts.deploymentId, last, PAGE);
                    for (const e of page) {
                        if (closed)
                            return;
                        res.write(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(eventView(e))}\n\n`);
                        last = e.id;
                        if (e.type === 'deployment.finished')
                            return close();
                    }
                    if (page.length < PAGE)
                        break;
                }
            } while (again && !closed);
        }
        catch {
            close();
        }
        finally {
            pumping = false;
        }
    };
    // A client that resumes after deployment.finished (its Last-Event-ID is the
    // last event) gets nothing more: once no task is open and a whole poll
    // brought nothing, the stream ends. (One poll of grace: the last task's
    // node writes deployment.finished just after the task ended.) The probe is
    // an index lookup, not a read of the deployment and its plan.
    let quietSinceDone = false;
    const poll = setInterval(async () => {
        const before = last;
        await pump();
        if (closed || last !== before)
            return;
        const done = !(await opts.store.hasOpenTasks(opts.deploymentId).catch(() => true));
        if (done && quietSinceDone)
            close();
        quietSinceDone = done;
    }, POLL_MS);
    const unsubscribe = opts.events.subscribe(opts.deploymentId, () => void pump());
    const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
    function close() {
        if (closed)
            return;
        closed = true;
        unsubscribe();
        clearInterval(poll);
        clearInterval(keepalive);
        res.end();
    }
    req.raw.on('close', close);
    await pump();
}

;// CONCATENATED MODULE: ./runner-agent/src/api/server.ts
// The agent's HTTP API (design: HTTP API). JSON only; every error is
// `{ error: { code, message, issues? } }` with the right status and never a
// stack trace.











const BODY_LIMIT = 4 * 1024 * 1024;
function buildServer(opts) {
    const { coordinator: co } = opts;
    const store = co.store;
    const app = fastify_default()({
        logger: false,
        bodyLimit: opts.bodyLimitBytes ?? BODY_LIMIT,
        // No deadline for a whole request: a package upload may rightly take many
        // minutes. Headers must arrive within 30 s and a connection that moves no
        // byte for idleTimeoutMs is closed, which is what stops a stalled client.
        requestTimeout: 0,
        http: { headersTimeout: 30_000 },
        connectionTimeout: opts.idleTimeoutMs ?? 60_000,
        return503OnClosing: true,
    });
    const authenticator = new Authenticator(opts.auth, (jti, expiresAt) => store.useTokenId(jti, expiresAt));
    const guard = (scope) => async (req) => {
        const r = await authenticator.authorize(req.headers.authorization, scope);
        if (!r.ok)
            throw new ApiError(r.status, r.status === 401 ? 'unauthorized' : 'forbidden', r.message);
    };
    app.setErrorHandler((err, _req, reply) => {
        if (err instanceof ApiError) {
            return reply.status(err.status).send({
                error: { code: err.code, message: err.message, ...(err.issues ? { issues: err.issues } : {}) },
            });
        }
        const status = err.statusCode ?? 500;
        if (status >= 500) {
            co.signals.emit('error', err);
            return reply
                .status(500)
                .send({ error: { code: 'internal', message: 'internal error; see the agent log' } });
        }
        const code = err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
            ? 'body_too_large'
            : err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
                ? 'unsupported_media_type'
                : err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError
                    ? 'invalid_json'
                    : 'bad_request';
        return reply.status(status).send({ error: { code, message: err.message } });
    });
    app.setNotFoundHandler((req, reply) => reply.status(404).send({ error: { code: 'not_found', message: `no route ${req.method} ${req.url}` } }));
    app.get('/healthz', async () => ({ ok: true }));
    app.get('/readyz', async (_req, reply) => co.draining
        ? reply.status(503).send({ ready: false, reason: `node ${co.node} is draining` })
        : { ready: true, node: co.node });
    const metrics = createMetrics(co);
    app.get('/metrics', async (_req, reply) => reply.type(metrics.contentType).send(await metrics.render()));
    app.post('/v1/deployments', { preHandler: guard('deploy') }, async (req, reply) => {
        const r = await co.submit(req.body, opts.baseUrl());
        return reply.status(r.created ? 201 : 200).send({
            id: r.deployment.id,
            url: `${opts.baseUrl()}/v1/deployments/${r.deployment.id}`,
            tasks: r.tasks.map((t) => ({
                id: t.id,
                tenant: t.tenant,
                concurrencyTag: t.concurrencyTag,
                state: t.state,
            })),
        });
    });
    app.get('/v1/deployments', { preHandler: guard('read') }, async () => {
        const list = await store.listDeployments(50);
        return list.map((d) => ({
            id: d.id,
            project: d.project,
            environment: d.environment,
            release: d.release,
            state: d.state,
            createdAt: new Date(d.createdAt).toISOString(),
        }));
    });
    const deploymentOr404 = async (id) => {
        const d = await store.getDeployment(id);
        if (!d)
            throw new ApiError(404, 'not_found', `deployment ${id} does not exist`);
        return d;
    };
    app.get('/v1/deployments/:id', { preHandler: guard('read') }, async (req) => {
        const d = await deploymentOr404(req.params.id);
        const tasks = await store.tasksOf(d.id);
        const waiting = tasks.some((t) => t.state === 'queued')
            ? await co.waitingOn()
            : new Map();
        const actions = await store.actionsOf(tasks.map((t) => t.id));
        const checkRun = await store.getCheckRun(d.id);
        return {
            ...deploymentView(d, opts.baseUrl(), tasks, waiting, actions),
            checkRunId: checkRun?.checkRunId ?? null,
        };
    });
    app.get('/v1/deployments/:id/events', { preHandler: guard('read') }, async (req, reply) => {
        const d = await deploymentOr404(req.params.id);
        const from = Number(req.headers['last-event-id'] ?? req.query.lastEventId ?? 0);
        if (!Number.isSafeInteger(from) || from < 0) {
            throw new ApiError(400, 'bad_request', 'Last-Event-ID must be a non-negative integer');
        }
        return sendEvents(req, reply, { store, events: co.events, deploymentId: d.id, after: from });
    });
    app.post('/v1/deployments/:id/cancel', { preHandler: guard('deploy') }, async (req) => {
        await deploymentOr404(req.params.id);
        await co.cancel(req.params.id);
        const d = await deploymentOr404(req.params.id);
        return { id: d.id, state: d.state };
    });
    app.get('/v1/tasks/:id/log', { preHandler: guard('read') }, async (req, reply) => {
        const task = await store.getTask(req.params.id);
        if (!task)
            throw new ApiError(404, 'not_found', `task ${req.params.id} does not exist`);
        const d = await deploymentOr404(task.deploymentId);
        // Log lines were masked when written; masking again covers lines written by older versions.
        const mask = makeMask(secretValuesOf(d));
        // Lines this node still holds in its event buffer belong in the answer.
        await co.events.flush();
        const lines = (await store.taskLog(task.id)).map((e) => {
            const data = e.data;
            const where = [data.step, data.target].filter(Boolean).join('@');
            return `${new Date(e.at).toISOString()} ${where ? `[${where}] ` : ''}${mask(String(data.line ?? ''))}`;
        });
        return reply.type('text/plain; charset=utf-8').send(lines.length ? `${lines.join('\n')}\n` : '');
    });
    app.get('/v1/queue', { preHandler: guard('read') }, async () => {
        const [queued, waiting] = await Promise.all([store.queuedTasks(1000), co.waitingOn()]);
        return queued.map((t) => ({ ...taskView(t, waiting.get(t.id) ?? null), deploymentId: t.deploymentId }));
    });
    app.get('/v1/nodes', { preHandler: guard('read') }, async () => {
        const now = await store.now();
        return (await store.listNodes()).map((n) => nodeView(n, now, opts.leaseTtlMs));
    });
    const nodeAnswer = async (name) => {
        const n = (await store.listNodes()).find((x) => x.name === name);
        if (!n)
            throw new ApiError(404, 'not_found', `node ${name} does not exist`);
        return nodeView(n, await store.now(), opts.leaseTtlMs);
    };
    app.put('/v1/nodes/:name', { preHandler: guard('drain') }, async (req) => {
        const body = capSchema.safeParse(req.body);
        if (!body.success) {
            throw new ApiError(400, 'invalid_request', 'body must be { "taskCap": <whole number from 0> }', [
                { path: '/taskCap', message: body.error.issues[0]?.message ?? 'invalid' },
            ]);
        }
        await co.setCap(req.params.name, body.data.taskCap);
        return nodeAnswer(req.params.name);
    });
    app.post('/v1/nodes/:name/drain', { preHandler: guard('drain') }, async (req) => {
        const body = drainSchema.safeParse(req.body ?? undefined);
        if (!body.success)
            throw new ApiError(400, 'invalid_request', 'body must be { "wait": true|false } or empty');
        await co.drain(req.params.name);
        if (body.data?.wait) {
            // Answers once the node runs no task; the client re-asks if this takes longer than a request may.
            const deadline = Date.now() + 25_000;
            while ((await nodeAnswer(req.params.name)).running > 0 && Date.now() < deadline) {
                await new Promise((r) => setTimeout(r, 200));
            }
        }
        return nodeAnswer(req.params.name);
    });
    app.post('/v1/nodes/:name/resume', { preHandler: guard('drain') }, async (req) => {
        await co.resume(req.params.name);
        return nodeAnswer(req.params.name);
    });
    app.register(packageRoutes(opts.packages, guard('deploy')));
    app.register(workerRoutes({
        registry: co.workers,
        packages: opts.packages,
        leaseTtlMs: opts.leaseTtlMs,
        worker: guard('worker'),
        read: guard('read'),
    }));
    return app;
}

;// CONCATENATED MODULE: ./runner-agent/src/github/check-run.ts
// What a deployment's check run says: status and conclusion from the
// deployment's state, a summary (tasks by state, why waiting tasks wait), a
// per-task table, and failed actions as annotations. Cut to GitHub's limits.


/** GitHub refuses summary and text longer than this (characters). */
const GITHUB_TEXT_LIMIT = 65_535;
/** GitHub takes at most this many annotations per create or update request. */
const ANNOTATIONS_PER_REQUEST = 50;
/**
 * Annotations need a file path; the agent does not know the plan's path in the
 * repository, so they point at the action's default plan path.
 */
const ANNOTATION_PATH = '.flotilla/plan.yml';
const CONCLUSIONS = { succeeded: 'success', failed: 'failure', cancelled: 'cancelled' };
const TRUNCATED = '\n\n\u2026 (cut to GitHub\u2019s limit; the full list is on the agent)';
function cut(text, limit = GITHUB_TEXT_LIMIT) {
    return text.length <= limit ? text : text.slice(0, limit - TRUNCATED.length) + TRUNCATED;
}
const cell = (text) => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
function checkRunName(d) {
    return d.github?.checkName ?? `flotilla: ${d.project} \u2192 ${d.environment}`;
}
function renderCheckRun(d, tasks, waiting) {
    const mask = makeMask(secretValuesOf(d));
    const byState = Map.groupBy(tasks, (t) => t.state);
    const count = (s) => tasks.filter((t) => t.state === s).length;
    const started = tasks.reduce((m, t) => (t.startedAt && (m === null || t.startedAt < m) ? t.startedAt : m), null);
    const terminal = d.state in CONCLUSIONS;
    const status = terminal ? 'completed' : started !== null ? 'in_progress' : 'queued';
    const title = `${d.release}: ${count('succeeded')}/${tasks.length} tasks succeeded${count('failed') + count('interrupted') ? `, ${count('failed') + count('interrupted')} failed` : ''}${count('running') ? `, ${count('running')} running` : ''}${count('queued') ? `, ${count('queued')} queued` : ''}`;
    const waitingRows = tasks
        .filter((t) => t.state === 'queued')
        .map((t) => `| ${cell(t.tenant ?? '(untenanted)')} | ${cell(mask(waiting.get(t.id) ?? 'queued'))} |`);
    const summary = [
        `Deployment \`${d.id}\` of **${d.project}** ${d.release} to **${d.environment}**: **${d.state}**`,
        '',
        '| state | tasks |',
        '| --- | --- |',
        ...[...byState].map(([s, ts]) => `| ${s} | ${ts.length} |`),
        ...(waitingRows.length
            ? ['', '### Waiting', '', '| tenant | waiting on |', '| --- | --- |', ...waitingRows]
            : []),
    ].join('\n');
    const text = [
        '| tenant | state | node | started | finished | message |',
        '| --- | --- | --- | --- | --- | --- |',
        ...tasks.map((t) => `| ${cell(t.tenant ?? '(untenanted)')} | ${t.state} | ${t.node ?? ''} | ${check_run_iso(t.startedAt)} | ${check_run_iso(t.finishedAt)} | ${cell(mask(t.message ?? ''))} |`),
    ].join('\n');
    return {
        name: checkRunName(d),
        status,
        ...(terminal ? { conclusion: CONCLUSIONS[d.state] } : {}),
        ...(started !== null ? { started_at: new Date(started).toISOString() } : {}),
        ...(terminal ? { completed_at: new Date(d.finishedAt ?? Date.now()).toISOString() } : {}),
        output: { title: cut(title, 255), summary: cut(summary), text: cut(text) },
    };
}
const check_run_iso = (ms) => (ms === null ? '' : new Date(ms).toISOString().slice(11, 19));
/** Failed actions in a stable order, so "the first n were sent" stays true across restarts. */
function failedActions(actions) {
    return actions
        .filter((a) => a.state === 'failed')
        .sort((a, b) => (a.finishedAt ?? 0) - (b.finishedAt ?? 0) || a.id.localeCompare(b.id));
}
function annotationOf(d, a, tenant) {
    const mask = makeMask(secretValuesOf(d));
    return {
        path: ANNOTATION_PATH,
        start_line: 1,
        end_line: 1,
        annotation_level: 'failure',
        title: cut(`${tenant ?? 'task'}: step ${a.step}${a.target ? ` on ${a.target}` : ''} failed`, 255),
        message: cut(mask(a.message ?? `exit code ${a.exitCode}`), 64 * 1024 - 1),
    };
}

;// CONCATENATED MODULE: ./runner-agent/src/github/octokit.ts
// GitHub clients for check runs: octokit with the throttling and retry
// plugins, authenticated as the agent's GitHub App installation of the
// repository when an app is configured, else with the token sent with the plan.

/** Octokit and its plugins take most of a second to load: only agents that report to GitHub pay for it. */
async function loadOctokit() {
    const [{ createAppAuth }, { retry }, { throttling }, { Octokit }] = await Promise.all([
        Promise.all(/* import() */[__webpack_require__.e(561), __webpack_require__.e(479)]).then(__webpack_require__.bind(__webpack_require__, 76479)),
        Promise.all(/* import() */[__webpack_require__.e(251), __webpack_require__.e(735)]).then(__webpack_require__.bind(__webpack_require__, 49735)),
        Promise.all(/* import() */[__webpack_require__.e(251), __webpack_require__.e(856)]).then(__webpack_require__.bind(__webpack_require__, 86856)),
        Promise.all(/* import() */[__webpack_require__.e(561), __webpack_require__.e(432)]).then(__webpack_require__.bind(__webpack_require__, 47432)),
    ]);
    return { createAppAuth, GitHub: Octokit.plugin(throttling, retry) };
}
let loading = null;
/** Rate limits are waited out (throttling); other transient failures are retried (retry plugin). */
const RETRIES = 4;
function client(GitHub, apiUrl, auth, log) {
    return new GitHub({
        ...auth,
        baseUrl: apiUrl.replace(/\/+$/, ''),
        userAgent: 'flotilla-agent',
        log: {
            debug: () => { },
            info: () => { },
            warn: (m) => log.warn(m),
            error: (m) => log.error(m),
        },
        request: { retries: RETRIES },
        throttle: {
            onRateLimit: (retryAfter, o, _k, count) => {
                log.warn({ retryAfter, url: o.url }, 'GitHub rate limit; waiting');
                return count < RETRIES;
            },
            onSecondaryRateLimit: (retryAfter, o, _k, count) => {
                log.warn({ retryAfter, url: o.url }, 'GitHub secondary rate limit; waiting');
                return count < RETRIES;
            },
        },
    });
}
/** One client per credential, so the throttling plugin's limits apply across deployments. */
class GitHubClients {
    settings;
    log;
    byKey = new Map();
    constructor(settings, log) {
        this.settings = settings;
        this.log = log;
    }
    /** Null when there is no way to authenticate for this repository. */
    async for(github) {
        const app = this.settings.app;
        if (!app && !github.token)
            return null;
        loading ??= loadOctokit();
        const loaded = await loading;
        if (app)
            return this.installation(loaded, github, app);
        if (!github.token)
            return null;
        // The submission's apiUrl wins with its token: it is the GitHub (Enterprise Server) that issued the token.
        const key = (0,external_node_crypto_.createHash)('sha256').update(`${github.apiUrl}\n${github.token}`).digest('hex');
        let c = this.byKey.get(key);
        if (!c) {
            c = client(loaded.GitHub, github.apiUrl, { auth: github.token }, this.log);
            this.byKey.set(key, c);
        }
        return c;
    }
    async installation({ GitHub, createAppAuth }, github, app) {
        const key = `app\n${github.repository}`;
        const cached = this.byKey.get(key);
        if (cached)
            return cached;
        const base = { appId: app.id, privateKey: app.privateKey };
        const asApp = client(GitHub, this.settings.apiUrl, { authStrategy: createAppAuth, auth: base }, this.log);
        const [owner, repo] = github.repository.split('/');
        const { data } = await asApp.rest.apps.getRepoInstallation({ owner, repo });
        // auth-app caches the installation token and renews it before it expires.
        const c = client(GitHub, this.settings.apiUrl, { authStrategy: createAppAuth, auth: { ...base, installationId: data.id } }, this.log);
        this.byKey.set(key, c);
        return c;
    }
}

;// CONCATENATED MODULE: ./runner-agent/src/github/reporter.ts
// The check-run reporter (design: Check runs). Events that change what a
// check run shows bump the deployment's row in the store's outbox; a pump
// sends each deployment's current state when its row has news and its last
// update is at least `checkIntervalMs` old. Everything it needs is in the
// store, so a restarted agent finishes what the last one left unsent.



/** Events that change what the check run says; log lines and action starts do not. */
const NEWS = new Set([
    'deployment.queued',
    'deployment.running',
    'deployment.finished',
    'task.started',
    'task.waiting',
    'task.requeued',
    'task.finished',
    'action.failed',
]);
const MAX_BACKOFF_MS = 5 * 60_000;
class CheckRunReporter {
    opts;
    clients;
    /** Whether a deployment reports to GitHub at all (it was submitted with a github context). */
    reports = new Map();
    /** What was last sent per deployment: an update that would change nothing is not sent. */
    lastSent = new Map();
    failures = new Map();
    unsubscribe = null;
    timer = null;
    pumping = null;
    again = false;
    stopped = false;
    constructor(opts) {
        this.opts = opts;
        this.clients = new GitHubClients(opts.github, opts.log);
    }
    start() {
        this.unsubscribe = this.opts.events.onBatch((batch) => void this.heard(batch));
        this.kick();
    }
    async stop() {
        this.stopped = true;
        this.unsubscribe?.();
        if (this.timer)
            clearTimeout(this.timer);
        await this.pumping;
    }
    async heard(batch) {
        try {
            const ids = new Set(batch.filter((e) => NEWS.has(e.type)).map((e) => e.deploymentId));
            for (const id of ids) {
                if (!(await this.reportsTo(id)))
                    continue;
                await this.opts.store.touchCheckRun(id);
            }
            if (ids.size)
                this.kick();
            // Deployments without a check run are forgotten when they end (the others, when their run completes).
            for (const e of batch)
                if (e.type === 'deployment.finished' && this.reports.get(e.deploymentId) === false)
                    this.reports.delete(e.deploymentId);
        }
        catch (err) {
            this.opts.log.error({ err }, 'could not record a check-run update');
        }
    }
    async reportsTo(id) {
        let yes = this.reports.get(id);
        if (yes === undefined) {
            const d = await this.opts.store.getDeployment(id);
            yes = Boolean(d?.github && (d.github.token || this.opts.github.app));
            this.reports.set(id, yes);
        }
        return yes;
    }
    /** Runs the pump now, or once more after the current run. */
    kick() {
        if (this.stopped)
            return;
        if (this.pumping) {
            this.again = true;
            return;
        }
        this.pumping = this.pump().finally(() => {
            this.pumping = null;
        });
    }
    async pump() {
        do {
            this.again = false;
            let next = Number.POSITIVE_INFINITY;
            try {
                const rows = await this.opts.store.pendingCheckRuns(100);
                for (const row of rows) {
                    if (this.stopped)
                        return;
                    const dueAt = Math.max(row.sentAt === null ? 0 : row.sentAt + this.opts.github.checkIntervalMs, this.failures.get(row.deploymentId)?.retryAt ?? 0);
                    if (dueAt > Date.now())
                        next = Math.min(next, dueAt);
                    else if (await this.send(row))
                        this.again = true;
                }
            }
            catch (err) {
                this.opts.log.error({ err }, 'check-run outbox failed');
                next = Date.now() + 1000;
            }
            if (Number.isFinite(next) && !this.stopped) {
                if (this.timer)
                    clearTimeout(this.timer);
                this.timer = setTimeout(() => this.kick(), Math.max(0, next - Date.now()));
            }
        } while (this.again && !this.stopped);
    }
    /** Sends one deployment's state; true when it wrote something to the store. */
    async send(row) {
        const { store, log } = this.opts;
        const id = row.deploymentId;
        const d = await store.getDeployment(id);
        const github = d?.github;
        const octokit = github ? await this.clients.for(github).catch((err) => this.failed(id, err)) : null;
        if (octokit === undefined)
            return false;
        const done = { version: row.version, checkRunId: row.checkRunId, annotations: row.annotations };
        if (!d || !github || !octokit) {
            await store.markCheckRunSent(id, { ...done, at: Date.now(), completed: true });
            return true;
        }
        const tasks = await store.tasksOf(id);
        const waiting = tasks.some((t) => t.state === 'queued')
            ? await this.opts.waitingOn()
            : new Map();
        const failed = failedActions(await store.actionsOf(tasks.map((t) => t.id)));
        const tenants = new Map(tasks.map((t) => [t.id, t.tenant]));
        const batch = failed
            .slice(row.annotations, row.annotations + ANNOTATIONS_PER_REQUEST)
            .map((a) => annotationOf(d, a, tenants.get(a.taskId) ?? null));
        const content = renderCheckRun(d, tasks, waiting);
        const annotations = row.annotations + batch.length;
        const completed = content.status === 'completed' && annotations >= failed.length;
        const fingerprint = (0,external_node_crypto_.createHash)('sha256').update(JSON.stringify(content)).digest('hex');
        if (row.checkRunId !== null && batch.length === 0 && this.lastSent.get(id) === fingerprint) {
            await store.markCheckRunSent(id, {
                ...done,
                checkRunId: row.checkRunId,
                at: row.sentAt ?? 0,
                completed,
            });
            return true;
        }
        const [owner, repo] = github.repository.split('/');
        const body = {
            owner,
            repo,
            ...content,
            output: { ...content.output, ...(batch.length ? { annotations: batch } : {}) },
            external_id: d.id,
            details_url: `${this.opts.baseUrl()}/v1/deployments/${d.id}`,
        };
        let checkRunId = row.checkRunId;
        try {
            if (checkRunId === null && row.sentAt !== null) {
                // A create was tried before (sentAt marks it) and may have reached GitHub just before a crash.
                checkRunId = await this.existing(octokit, owner, repo, d.id, github.sha, content.name);
            }
            if (checkRunId === null) {
                const attempt = { version: row.sentVersion, checkRunId: null, annotations: row.annotations };
                await store.markCheckRunSent(id, { ...attempt, at: Date.now(), completed: false });
                checkRunId = (await octokit.rest.checks.create({ ...body, head_sha: github.sha })).data.id;
            }
            else {
                await octokit.rest.checks.update({ ...body, check_run_id: checkRunId });
            }
        }
        catch (err) {
            this.failed(id, err);
            return false;
        }
        this.failures.delete(id);
        this.lastSent.set(id, fingerprint);
        await store.markCheckRunSent(id, {
            version: row.version,
            checkRunId,
            at: Date.now(),
            annotations,
            completed,
        });
        if (annotations < failed.length)
            await store.touchCheckRun(id);
        if (completed) {
            this.lastSent.delete(id);
            this.reports.delete(id);
            log.info({ deployment: id, checkRunId, conclusion: content.conclusion }, 'check run completed');
        }
        return true;
    }
    /** The check run an earlier create made for this deployment (found by its external_id), if any. */
    async existing(octokit, owner, repo, deploymentId, sha, name) {
        const { data } = await octokit.rest.checks.listForRef({
            owner,
            repo,
            ref: sha,
            check_name: name,
            filter: 'all',
        });
        return data.check_runs.find((r) => r.external_id === deploymentId)?.id ?? null;
    }
    /** Backs off after a failure the plugins could not retry away; gives up on ones no retry can fix. */
    failed(id, err) {
        const status = err.status ?? 0;
        const message = err.message;
        const permanent = [401, 404, 410, 422].includes(status) || (status === 403 && !/rate limit/i.test(message));
        const count = (this.failures.get(id)?.count ?? 0) + 1;
        if (permanent) {
            this.opts.log.error({ deployment: id, status, err: message }, 'GitHub refused the check run; giving up on it');
            void this.opts.store.getCheckRun(id).then((row) => row
                ? this.opts.store.markCheckRunSent(id, {
                    version: row.version,
                    checkRunId: row.checkRunId,
                    at: Date.now(),
                    annotations: row.annotations,
                    completed: true,
                })
                : undefined);
            return undefined;
        }
        const delay = Math.min(1000 * 2 ** count, MAX_BACKOFF_MS);
        this.failures.set(id, { count, retryAt: Date.now() + delay });
        this.opts.log.warn({ deployment: id, status, err: message, retryInMs: delay }, 'check-run update failed; will retry');
        return undefined;
    }
}

// EXTERNAL MODULE: external "node:sqlite"
var external_node_sqlite_ = __webpack_require__(80099);
// EXTERNAL MODULE: external "node:worker_threads"
var external_node_worker_threads_ = __webpack_require__(75919);
;// CONCATENATED MODULE: ./runner-agent/src/store/sqlite-checkpointer.ts
// Checkpoints of the embedded store's write-ahead log, in a worker thread with
// its own connection. Left to itself, SQLite checkpoints in the commit that
// takes the log past 1,000 pages: on the event loop, with two fsyncs, which
// held up the dispatch of every task behind it (throughput benchmark, three
// alternated runs: dispatch p99 29-33 ms, against 17-19 ms without those
// checkpoints). Here a PASSIVE checkpoint, which writers never wait for, runs
// beside the event loop every CHECKPOINT_EVERY commits. Only a commit can
// start the log over, and only once every page in it is checkpointed, which
// under steady writes the thread never sees: so the event loop then
// checkpoints the few pages written meanwhile (catchUp), and the log stays
// short. The thread (about 20 MB) starts with the first checkpoint and ends
// after a while without one, so an idle agent carries none. Should it fail,
// SQLite checkpoints as by default again.


const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(workerData.file);
db.exec('PRAGMA busy_timeout = 5000');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
parentPort.on('message', (m) => {
  if (m !== 'close') return parentPort.postMessage(checkpoint.get());
  db.close();
  parentPort.close();
});`;
/** Commits between checkpoints: at six or seven pages a commit (makespan benchmark), about SQLite's own 1,000 pages. */
const CHECKPOINT_EVERY = 150;
class WalCheckpointer {
    worker = null;
    commits = 0;
    inFlight = false;
    idleTimer = null;
    failed = false;
    file;
    opts;
    constructor(file, opts) {
        this.file = file;
        this.opts = opts;
    }
    /** Whether the thread is there now. */
    get running() {
        return this.worker !== null;
    }
    /** Called after each commit. */
    committed() {
        if (++this.commits >= CHECKPOINT_EVERY && !this.inFlight && !this.failed)
            this.checkpoint();
    }
    checkpoint() {
        this.commits = 0;
        this.inFlight = true;
        if (this.idleTimer)
            clearTimeout(this.idleTimer);
        this.idleTimer = null;
        (this.worker ?? this.start()).postMessage(null);
    }
    start() {
        // No flags of the process's own (--input-type=module would make SOURCE an ES module).
        const worker = new external_node_worker_threads_.Worker(SOURCE, { eval: true, execArgv: [], workerData: { file: this.file } });
        worker.unref();
        worker.on('message', () => {
            if (this.worker !== worker)
                return;
            this.inFlight = false;
            try {
                this.opts.catchUp();
            }
            catch (err) {
                return this.fail(err);
            }
            if (this.commits >= CHECKPOINT_EVERY)
                return this.checkpoint();
            this.idleTimer = setTimeout(() => void this.stop(), this.opts.idleMs ?? 10_000);
            this.idleTimer.unref();
        });
        worker.on('error', (err) => this.fail(err));
        this.worker = worker;
        return worker;
    }
    fail(err) {
        this.failed = true;
        void this.stop();
        this.opts.onFail(err);
    }
    /** Ends the thread after its connection closed (after a checkpoint it runs). */
    async stop() {
        const worker = this.worker;
        this.worker = null;
        this.inFlight = false;
        if (!worker)
            return;
        const exited = (0,external_node_events_.once)(worker, 'exit');
        // Held open until then: closing the last connection checkpoints the log
        // whole, and a process about to exit would otherwise not wait for it.
        worker.ref();
        worker.postMessage('close');
        await exited;
    }
    async close() {
        if (this.idleTimer)
            clearTimeout(this.idleTimer);
        this.idleTimer = null;
        this.failed = true;
        await this.stop();
    }
}

;// CONCATENATED MODULE: ./runner-agent/src/store/sqlite-schema.ts
// The embedded store's schema, as numbered migrations: a data dir records the
// last one applied (PRAGMA user_version) and gets only the newer ones. A new
// migration is appended, never edited. Times are milliseconds since the epoch.
const SQLITE_MIGRATIONS = [
    `
CREATE TABLE IF NOT EXISTS nodes (
  name         TEXT PRIMARY KEY,
  task_cap     INTEGER NOT NULL CHECK (task_cap >= 0),
  resume_cap   INTEGER,
  epoch        INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  started_at   INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS deployments (
  id              TEXT PRIMARY KEY,
  idempotency_key TEXT UNIQUE,
  project         TEXT NOT NULL,
  environment     TEXT NOT NULL,
  release         TEXT NOT NULL,
  plan            TEXT NOT NULL,
  github          TEXT,
  secret_values   TEXT NOT NULL,
  max_running     INTEGER NOT NULL DEFAULT 0,
  state           TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  finished_at     INTEGER
);

CREATE TABLE IF NOT EXISTS tasks (
  id              TEXT PRIMARY KEY,
  seq             INTEGER NOT NULL UNIQUE,
  deployment_id   TEXT NOT NULL REFERENCES deployments (id),
  tenant          TEXT,
  concurrency_tag TEXT NOT NULL,
  priority        INTEGER NOT NULL,
  state           TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted')),
  node            TEXT,
  epoch           INTEGER,
  action_started  INTEGER NOT NULL DEFAULT 0,
  queued_at       INTEGER NOT NULL,
  started_at      INTEGER,
  finished_at     INTEGER,
  message         TEXT,
  CHECK (state <> 'running' OR (node IS NOT NULL AND epoch IS NOT NULL))
);
-- Rule 2 of the design, enforced by the database: one running task per tag.
CREATE UNIQUE INDEX IF NOT EXISTS tasks_running_tag ON tasks (concurrency_tag) WHERE state = 'running';
CREATE INDEX IF NOT EXISTS tasks_queue ON tasks (priority DESC, seq) WHERE state = 'queued';
CREATE INDEX IF NOT EXISTS tasks_deployment ON tasks (deployment_id, seq);
CREATE INDEX IF NOT EXISTS tasks_deployment_open ON tasks (deployment_id) WHERE state IN ('queued', 'running');
CREATE INDEX IF NOT EXISTS tasks_node ON tasks (node) WHERE state = 'running';

CREATE TABLE IF NOT EXISTS actions (
  id          TEXT PRIMARY KEY,
  task_id     TEXT NOT NULL REFERENCES tasks (id),
  step_index  INTEGER NOT NULL,
  step        TEXT NOT NULL,
  target      TEXT,
  worker      TEXT,
  state       TEXT NOT NULL CHECK (state IN ('pending', 'running', 'succeeded', 'failed', 'skipped', 'cancelled')),
  attempt     INTEGER NOT NULL,
  started_at  INTEGER,
  finished_at INTEGER,
  exit_code   INTEGER,
  message     TEXT,
  waiting_on  TEXT
);
CREATE INDEX IF NOT EXISTS actions_task ON actions (task_id, step_index);

-- Rule 3: the per-target mutex, one row per held target.
CREATE TABLE IF NOT EXISTS target_locks (
  target    TEXT PRIMARY KEY,
  task_id   TEXT NOT NULL,
  action_id TEXT NOT NULL,
  since     INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS target_locks_task ON target_locks (task_id);

CREATE TABLE IF NOT EXISTS events (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  deployment_id TEXT NOT NULL,
  task_id       TEXT,
  type          TEXT NOT NULL,
  data          TEXT NOT NULL,
  at            INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS events_deployment ON events (deployment_id, id);
CREATE INDEX IF NOT EXISTS events_task_log ON events (task_id, id) WHERE type = 'log';
`,
    // 2: the check-run outbox (design: Check runs).
    `
CREATE TABLE IF NOT EXISTS check_runs (
  deployment_id TEXT PRIMARY KEY REFERENCES deployments (id),
  check_run_id  INTEGER,
  version       INTEGER NOT NULL,
  sent_version  INTEGER NOT NULL DEFAULT 0,
  sent_at       INTEGER,
  annotations   INTEGER NOT NULL DEFAULT 0,
  completed     INTEGER NOT NULL DEFAULT 0,
  touched_at    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS check_runs_pending ON check_runs (touched_at) WHERE version > sent_version;
`,
    `
-- When an agent stopped (set by its stop, cleared when it registers again).
ALTER TABLE nodes ADD COLUMN stopped_at INTEGER;
`,
    `
-- OIDC token ids (jti) already accepted, until the token expires.
CREATE TABLE token_ids (
  jti        TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
);
CREATE INDEX token_ids_expiry ON token_ids (expires_at);
`,
];

;// CONCATENATED MODULE: ./runner-agent/src/store/sqlite.ts
// The embedded store: SQLite through node:sqlite, in WAL mode, for one node.
// node:sqlite is synchronous; every statement here is short and indexed, so
// the event loop is never held for long. The scheduling invariants are the
// database's: a partial unique index allows one running task per tag.








class DataDirLockedError extends Error {
}
// Data dirs this process holds open. A lock file with our own pid is taken
// over (a container restarted after kill -9 often gets the same pid), so the
// pid alone cannot tell a second store in this process from a stale lock.
const lockedHere = new Set();
/**
 * Only one agent may open a data dir: a lock file holding the owner's pid,
 * created with O_EXCL. A lock left by a dead process (kill -9) is taken over.
 */
function lockDataDir(dir) {
    const file = (0,external_node_path_.join)(dir, 'agent.lock');
    const key = (0,external_node_path_.resolve)(dir);
    if (lockedHere.has(key))
        throw new DataDirLockedError(`data dir ${dir} is already open in this process`);
    for (let tries = 0; tries < 2; tries++) {
        try {
            const fd = (0,external_node_fs_.openSync)(file, 'wx');
            (0,external_node_fs_.writeFileSync)(fd, String(process.pid));
            (0,external_node_fs_.closeSync)(fd);
            lockedHere.add(key);
            return () => {
                lockedHere.delete(key);
                try {
                    (0,external_node_fs_.unlinkSync)(file);
                }
                catch { }
            };
        }
        catch (err) {
            if (err.code !== 'EEXIST')
                throw err;
            const pid = Number((0,external_node_fs_.readFileSync)(file, 'utf8'));
            if (pid && pid !== process.pid && isAlive(pid)) {
                throw new DataDirLockedError(`data dir ${dir} is in use by another agent (pid ${pid})`);
            }
            (0,external_node_fs_.unlinkSync)(file);
        }
    }
    throw new DataDirLockedError(`could not lock data dir ${dir}`);
}
function isAlive(pid) {
    try {
        process.kill(pid, 0);
        return true;
    }
    catch (err) {
        return err.code === 'EPERM';
    }
}
/**
 * Rows a multi-row INSERT takes at most: binding and stepping a statement
 * costs more than its row, and events (and a task's actions) come in batches.
 * Measured, 200 events a transaction, twelve alternations: 3.8 us an event
 * against 5.5 us one statement each.
 */
const ROWS_PER_INSERT = 16;
/** The statements inserting 1 to ROWS_PER_INSERT rows into `table`, at n - 1. */
function inserts(table, columns) {
    const row = `(${columns.map(() => '?').join(', ')})`;
    return Array.from({ length: ROWS_PER_INSERT }, (_, i) => `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array(i + 1)
        .fill(row)
        .join(', ')}`);
}
const INSERT_EVENTS = inserts('events', ['deployment_id', 'task_id', 'type', 'data', 'at']);
const INSERT_ACTIONS = inserts('actions', [
    'id',
    'task_id',
    'step_index',
    'step',
    'target',
    'worker',
    'state',
    'attempt',
]);
class SqliteStore {
    kind = 'sqlite';
    db;
    unlock;
    stmts = new Map();
    queued = [];
    /** A commit of the queued writes is due at the end of this tick (see writeNow). */
    commitScheduled = false;
    checkpointer;
    constructor(dataDir) {
        (0,external_node_fs_.mkdirSync)(dataDir, { recursive: true });
        this.unlock = lockDataDir(dataDir);
        try {
            const file = (0,external_node_path_.join)(dataDir, 'flotilla.db');
            this.db = new external_node_sqlite_.DatabaseSync(file);
            this.db.exec('PRAGMA journal_mode = WAL');
            // The checkpointer copies the log into the database file off the event
            // loop. Should it fall behind, a commit checkpoints once the log reaches
            // 10,000 pages (40 MB); should it fail, 1,000 as by default.
            this.db.exec('PRAGMA wal_autocheckpoint = 10000');
            this.checkpointer = new WalCheckpointer(file, {
                catchUp: () => this.prepared('PRAGMA wal_checkpoint(PASSIVE)').get(),
                onFail: () => {
                    if (this.db.isOpen)
                        this.db.exec('PRAGMA wal_autocheckpoint = 1000');
                },
            });
            // NORMAL in WAL mode survives a crash of the process (kill -9) at any
            // instant; submissions additionally switch to FULL (see createDeployment)
            // so an accepted deployment also survives a power loss.
            this.db.exec('PRAGMA synchronous = NORMAL');
            this.db.exec('PRAGMA busy_timeout = 5000');
            this.db.exec('PRAGMA foreign_keys = ON');
            this.migrate();
        }
        catch (err) {
            this.unlock();
            throw err;
        }
    }
    migrate() {
        const current = Number(this.db.prepare('PRAGMA user_version').get().user_version);
        if (current > SQLITE_MIGRATIONS.length) {
            throw new Error(`the data dir was written by a newer Flotilla (schema ${current}, this one knows ${SQLITE_MIGRATIONS.length}); upgrade the agent`);
        }
        SQLITE_MIGRATIONS.slice(current).forEach((sql, i) => {
            this.tx(() => {
                this.db.exec(sql);
                this.db.exec(`PRAGMA user_version = ${current + i + 1}`);
            });
        });
    }
    q(sql) {
        // Read your writes: a statement outside the group commit first commits
        // the writes queued before it.
        if (this.queued.length > 0 && !this.db.isTransaction)
            this.commitQueued();
        return this.prepared(sql);
    }
    /** Prepared once: BEGIN and COMMIT too, which db.exec would parse on every transaction. */
    prepared(sql) {
        let s = this.stmts.get(sql);
        if (!s) {
            s = this.db.prepare(sql);
            this.stmts.set(sql, s);
        }
        return s;
    }
    all(sql, ...params) {
        return this.q(sql).all(...params);
    }
    /**
     * At most `limit` rows of `sql` with a LIMIT appended. SQLite's planner
     * reads the bound value of `LIMIT ?`, so such a statement is compiled again
     * on every run, which about doubles the cost of a short one; a literal
     * LIMIT is not. Rounded up to a power of two, it leaves few statements to cache.
     */
    allLimited(sql, limit, ...params) {
        const literal = limit >= 2 ** 20 ? -1 : 2 ** Math.ceil(Math.log2(Math.max(1, limit)));
        const rows = this.all(`${sql} LIMIT ${literal}`, ...params);
        return rows.length > limit ? rows.slice(0, Math.max(0, limit)) : rows;
    }
    get(sql, ...params) {
        return this.q(sql).get(...params);
    }
    run(sql, ...params) {
        const changes = Number(this.q(sql).run(...params).changes);
        if (!this.db.isTransaction)
            this.checkpointer.committed();
        return changes;
    }
    tx(fn) {
        if (this.queued.length > 0)
            this.commitQueued();
        this.prepared('BEGIN IMMEDIATE').run();
        try {
            const r = fn();
            this.prepared('COMMIT').run();
            this.checkpointer.committed();
            return r;
        }
        catch (err) {
            this.prepared('ROLLBACK').run();
            throw err;
        }
    }
    /**
     * Group commit: the writes made while the event loop is busy with one turn
     * share a transaction, so fifty running tasks cost one WAL append instead of
     * fifty. Each write still resolves only after its transaction committed, in
     * the order the writes were made; one that throws is rolled back alone; any
     * other statement commits the queue first, so reads see every earlier write.
     */
    write(fn) {
        return new Promise((resolve, reject) => {
            if (this.queued.length === 0)
                setImmediate(() => this.commitQueued());
            this.queued.push({ fn, resolve: resolve, reject });
        });
    }
    /**
     * A write on the way from a freed slot to the next action (a claim, a
     * task's first start) commits in this turn of the event loop, with the
     * queued writes, instead of in the next: under load a turn takes
     * milliseconds. Measured in the throughput benchmark (2,500 tasks, three
     * runs each way): dispatch latency p50 3.5-4.0 ms instead of 6.0-6.2 ms,
     * p99 41-51 ms instead of 53-81 ms, for about 0.15 ms more agent CPU per task.
     * It commits once the promise callbacks under way have run (a tick): the
     * first starts of tasks claimed together share one commit. In the makespan
     * benchmark that took the commits of a run from 1,028 to 688, for dispatch
     * latency p50 4.3-5.0 ms instead of 3.5-3.7 and p99 11.7-12.4 ms instead
     * of 10.7-10.8 (two alternations).
     */
    writeNow(fn) {
        const written = this.write(fn);
        if (!this.commitScheduled) {
            this.commitScheduled = true;
            process.nextTick(() => {
                this.commitScheduled = false;
                this.commitQueued();
            });
        }
        return written;
    }
    commitQueued() {
        const batch = this.queued;
        this.queued = [];
        if (batch.length === 0)
            return;
        let outcomes;
        try {
            outcomes = this.tx(() => batch.map((w) => ({ ok: true, value: w.fn() })));
        }
        catch {
            // A write threw, and the whole batch was rolled back: run it again, each
            // write in a savepoint, so that only the one that throws is lost. Writes
            // rarely throw; a savepoint for each, every time, cost two statements a
            // write (a third of all) and 10-25% of the agent's CPU per action
            // (in-process coordinator and timer worker, three alternations).
            try {
                outcomes = this.tx(() => batch.map((w) => this.inSavepoint(w.fn)));
            }
            catch (err) {
                for (const w of batch)
                    w.reject(err);
                return;
            }
        }
        batch.forEach((w, i) => {
            const o = outcomes[i];
            if (o.ok)
                w.resolve(o.value);
            else
                w.reject(o.err);
        });
    }
    inSavepoint(fn) {
        this.q('SAVEPOINT write').run();
        try {
            return { ok: true, value: fn() };
        }
        catch (err) {
            this.q('ROLLBACK TO write').run();
            return { ok: false, err };
        }
        finally {
            this.q('RELEASE write').run();
        }
    }
    async close() {
        const checkpointerClosed = this.checkpointer.close();
        this.commitQueued();
        this.stmts.clear();
        this.db.close();
        // The data dir stays locked until the thread's connection is gone too.
        await checkpointerClosed;
        this.unlock();
    }
    async now() {
        return Date.now();
    }
    async registerNode(name, defaultCap) {
        const now = Date.now();
        return this.tx(() => {
            this.run(`INSERT INTO nodes (name, task_cap, epoch, heartbeat_at, started_at) VALUES (?, ?, 1, ?, ?)
         ON CONFLICT (name) DO UPDATE SET epoch = epoch + 1, heartbeat_at = excluded.heartbeat_at,
           started_at = excluded.started_at, stopped_at = NULL`, name, defaultCap, now, now);
            return this.nodeRow(name);
        });
    }
    nodeRow(name) {
        const r = this.get(`SELECT n.*, (SELECT COUNT(*) FROM tasks t WHERE t.node = n.name AND t.state = 'running') AS running
       FROM nodes n WHERE n.name = ?`, name);
        return r ? (0,rows/* toNode */.ye)(r) : null;
    }
    async heartbeat(lease) {
        await this.write(() => {
            const n = this.run('UPDATE nodes SET heartbeat_at = ? WHERE name = ? AND epoch = ?', Date.now(), lease.node, lease.epoch);
            if (n === 0)
                throw new types/* StaleLeaseError */.Q2(`heartbeat of node ${lease.node}`);
        });
    }
    async leaveNode(lease) {
        await this.write(() => {
            this.run('UPDATE nodes SET stopped_at = ? WHERE name = ? AND epoch = ?', Date.now(), lease.node, lease.epoch);
        });
    }
    async setTaskCap(name, cap) {
        // Cap 0 is a drain: like drainNode, remember the cap to resume to. A cap
        // above 0 is the new cap to resume to later, so a stale one is forgotten.
        this.run(`UPDATE nodes SET resume_cap = CASE WHEN ? > 0 THEN NULL WHEN task_cap > 0 THEN task_cap ELSE resume_cap END,
         task_cap = ? WHERE name = ?`, cap, cap, name);
        return this.nodeRow(name);
    }
    async drainNode(name) {
        this.run('UPDATE nodes SET resume_cap = CASE WHEN task_cap > 0 THEN task_cap ELSE resume_cap END, task_cap = 0 WHERE name = ?', name);
        return this.nodeRow(name);
    }
    async resumeNode(name, defaultCap) {
        this.run('UPDATE nodes SET task_cap = COALESCE(resume_cap, ?), resume_cap = NULL WHERE name = ? AND task_cap = 0', defaultCap, name);
        return this.nodeRow(name);
    }
    async listNodes() {
        return this.all(`SELECT n.*, (SELECT COUNT(*) FROM tasks t WHERE t.node = n.name AND t.state = 'running') AS running
       FROM nodes n ORDER BY n.name`).map(rows/* toNode */.ye);
    }
    async createDeployment(input) {
        if (input.idempotencyKey) {
            const existing = this.get('SELECT * FROM deployments WHERE idempotency_key = ?', input.idempotencyKey);
            if (existing) {
                const deployment = (0,rows/* toDeployment */.HG)(existing);
                return { deployment, tasks: await this.tasksOf(deployment.id), created: false };
            }
        }
        const now = Date.now();
        const id = (0,ids/* newId */.S)('dep');
        const priority = input.plan.priority === 'high' ? 1 : 0;
        // An accepted submission must survive a power loss, not only a crash.
        this.db.exec('PRAGMA synchronous = FULL');
        try {
            this.tx(() => {
                this.run(`INSERT INTO deployments (id, idempotency_key, project, environment, release, plan, github, secret_values, max_running, state, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?)`, id, input.idempotencyKey ?? null, input.project, input.environment, input.release, JSON.stringify(input.plan), input.github ? JSON.stringify(input.github) : null, JSON.stringify(input.secrets), input.plan.concurrency.maxRunningTasks, now);
                const seq0 = Number(this.get('SELECT COALESCE(MAX(seq), 0) AS s FROM tasks').s);
                input.tasks.forEach((t, i) => {
                    this.run(`INSERT INTO tasks (id, seq, deployment_id, tenant, concurrency_tag, priority, state, queued_at)
             VALUES (?, ?, ?, ?, ?, ?, 'queued', ?)`, (0,ids/* newId */.S)('tsk'), seq0 + i + 1, id, t.tenant, t.concurrencyTag, priority, now);
                });
            });
        }
        finally {
            this.db.exec('PRAGMA synchronous = NORMAL');
        }
        return { deployment: (await this.getDeployment(id)), tasks: await this.tasksOf(id), created: true };
    }
    async getDeployment(id) {
        const r = this.get('SELECT * FROM deployments WHERE id = ?', id);
        return r ? (0,rows/* toDeployment */.HG)(r) : null;
    }
    async listDeployments(limit) {
        return this.allLimited('SELECT * FROM deployments ORDER BY created_at DESC, id DESC', limit).map(rows/* toDeployment */.HG);
    }
    async setDeploymentState(id, state) {
        const terminal = !['queued', 'running'].includes(state);
        return (this.run(`UPDATE deployments SET state = ?, finished_at = CASE WHEN ? THEN ? ELSE NULL END
         WHERE id = ? AND state IN ('queued', 'running') AND state <> ?`, state, terminal ? 1 : 0, Date.now(), id, state) > 0);
    }
    async getTask(id) {
        const r = this.get('SELECT * FROM tasks WHERE id = ?', id);
        return r ? (0,rows/* toTask */.FM)(r) : null;
    }
    async tasksOf(deploymentId) {
        return this.all('SELECT * FROM tasks WHERE deployment_id = ? ORDER BY seq', deploymentId).map(rows/* toTask */.FM);
    }
    async hasOpenTasks(deploymentId) {
        return !!this.get(`SELECT 1 AS open FROM tasks WHERE deployment_id = ? AND state IN ('queued', 'running') LIMIT 1`, deploymentId);
    }
    async queuedTasks(limit = 100_000) {
        return this.allLimited(`SELECT * FROM tasks WHERE state = 'queued' ORDER BY ${rows/* claimOrder */.Ln}`, limit).map(rows/* toTask */.FM);
    }
    async runningTasks() {
        return this.all(`SELECT * FROM tasks WHERE state = 'running' ORDER BY started_at`).map(rows/* toTask */.FM);
    }
    async claimTasks(lease, limit) {
        if (limit <= 0)
            return [];
        return this.writeNow(() => {
            if (!this.get('SELECT 1 AS ok FROM nodes WHERE name = ? AND epoch = ?', lease.node, lease.epoch)) {
                throw new types/* StaleLeaseError */.Q2(`claim by node ${lease.node}`);
            }
            const claimed = [];
            const seenTags = new Set();
            const runningPerDeployment = new Map();
            let after = { priority: 2, seq: 0 };
            // Usually the first rows are claimable: read a little more than needed, and more if not.
            let pageSize = limit + 8;
            // Queued tasks whose tag is free, in claim order, a page at a time. The
            // first task seen for a tag is that tag's head; later ones wait behind it.
            while (claimed.length < limit) {
                // The page carries only what choosing needs: most of its rows are not
                // taken, and a row of every column costs as much to read again.
                const page = this.allLimited(`SELECT t.id, t.concurrency_tag, t.priority, t.seq, t.deployment_id, d.max_running FROM tasks t
           JOIN deployments d ON d.id = t.deployment_id
           WHERE t.state = 'queued' AND (t.priority < ? OR (t.priority = ? AND t.seq > ?))
             AND NOT EXISTS (SELECT 1 FROM tasks r WHERE r.state = 'running' AND r.concurrency_tag = t.concurrency_tag)
           ORDER BY ${rows/* claimOrder */.Ln}`, pageSize, after.priority, after.priority, after.seq);
                for (const r of page) {
                    const tag = String(r.concurrency_tag);
                    if (seenTags.has(tag))
                        continue;
                    seenTags.add(tag);
                    const max = Number(r.max_running ?? 0);
                    if (max > 0) {
                        const deploymentId = String(r.deployment_id);
                        const running = runningPerDeployment.get(deploymentId) ??
                            Number(this.get(`SELECT COUNT(*) AS n FROM tasks WHERE deployment_id = ? AND state = 'running'`, deploymentId).n);
                        if (running >= max)
                            continue;
                        runningPerDeployment.set(deploymentId, running + 1);
                    }
                    const row = this.get(`UPDATE tasks SET state = 'running', node = ?, epoch = ?, started_at = ?, message = NULL
             WHERE id = ? RETURNING *`, lease.node, lease.epoch, Date.now(), r.id);
                    claimed.push((0,rows/* toTask */.FM)(row));
                    if (claimed.length >= limit)
                        break;
                }
                const last = page.at(-1);
                if (page.length < pageSize || !last)
                    break;
                after = { priority: Number(last.priority), seq: Number(last.seq) };
                pageSize = Math.min(pageSize * 4, 1024);
            }
            return claimed;
        });
    }
    async startAction(start, fence, insert = []) {
        // The fenced start is a task's first: it is on the dispatch path.
        const commit = (fn) => (fence ? this.writeNow(fn) : this.write(fn));
        await commit(() => {
            if (fence) {
                const n = this.run(`UPDATE tasks SET action_started = 1 WHERE id = ? AND state = 'running' AND node = ? AND epoch = ?
           AND EXISTS (SELECT 1 FROM nodes WHERE name = ? AND epoch = ?)`, start.taskId, fence.node, fence.epoch, 
                // Fencing: an epoch the node has since re-registered past is stale even
                // before recoverTasks has moved its tasks.
                fence.node, fence.epoch);
                if (n === 0)
                    throw new types/* StaleLeaseError */.Q2(`task ${start.taskId}`);
            }
            this.insertActionRows(insert);
            this.run(`UPDATE actions SET state = 'running', attempt = ?, started_at = ?, worker = ?, waiting_on = NULL WHERE id = ?`, start.attempt, start.startedAt, start.worker, start.id);
        });
    }
    async finishTask(taskId, lease, state, message, actionEnds = [], handoffs = []) {
        await this.write(() => {
            const changed = this.run(`UPDATE tasks SET state = ?, finished_at = ?, message = ? WHERE id = ? AND state = 'running' AND node = ? AND epoch = ?
           AND EXISTS (SELECT 1 FROM nodes WHERE name = ? AND epoch = ?)`, state, Date.now(), message, taskId, lease.node, lease.epoch, 
            // Fencing, as in startAction.
            lease.node, lease.epoch);
            if (changed === 0)
                throw new types/* StaleLeaseError */.Q2(`task ${taskId}`);
            for (const end of actionEnds)
                this.endAction(end);
            for (const h of handoffs)
                this.passLock(h.target, 'task_id', taskId, h);
            this.run('DELETE FROM target_locks WHERE task_id = ?', taskId);
        });
    }
    async cancelQueued(deploymentId, message) {
        return this.all(`UPDATE tasks SET state = 'cancelled', finished_at = ?, message = ?
       WHERE deployment_id = ? AND state = 'queued' RETURNING *`, Date.now(), message, deploymentId).map(rows/* toTask */.FM);
    }
    async supersedeQueued(tags, beforeSeq, message) {
        if (tags.length === 0)
            return [];
        return this.all(`UPDATE tasks SET state = 'cancelled', finished_at = ?, message = ?
       WHERE state = 'queued' AND seq < ? AND concurrency_tag IN (SELECT value FROM json_each(?)) RETURNING *`, Date.now(), message, beforeSeq, JSON.stringify(tags)).map(rows/* toTask */.FM);
    }
    async recoverTasks(opts) {
        return this.tx(() => {
            const stale = this.all(`SELECT t.*, d.plan ->> '$.onInterrupt' AS on_interrupt FROM tasks t
         JOIN deployments d ON d.id = t.deployment_id
         LEFT JOIN nodes n ON n.name = t.node
         WHERE t.state = 'running' AND (
           (? IS NOT NULL AND t.node = ? AND t.epoch < ?) OR
           (? IS NOT NULL AND (n.heartbeat_at IS NULL OR n.heartbeat_at < ?)))`, opts.node ?? null, opts.node ?? null, opts.currentEpoch ?? 0, opts.staleBefore ?? null, opts.staleBefore ?? 0);
            const now = Date.now();
            const out = [];
            for (const r of stale) {
                const task = (0,rows/* afterCrash */.QB)((0,rows/* toTask */.FM)(r), r.on_interrupt);
                if (task.state === 'queued') {
                    this.run(`UPDATE tasks SET state = 'queued', node = NULL, epoch = NULL, started_at = NULL, action_started = 0, message = ? WHERE id = ?`, task.message, task.id);
                    out.push(task);
                }
                else {
                    this.run(`UPDATE tasks SET state = 'interrupted', finished_at = ?, message = ? WHERE id = ?`, now, task.message, task.id);
                    out.push({ ...task, finishedAt: now });
                }
                this.run(`UPDATE actions SET state = 'cancelled', finished_at = ? WHERE task_id = ? AND state IN ('pending', 'running')`, now, task.id);
                this.run('DELETE FROM target_locks WHERE task_id = ?', task.id);
            }
            this.insertEvents(out.map(rows/* recoveryEvent */.Q6));
            return out;
        });
    }
    async insertActions(actions) {
        await this.write(() => this.insertActionRows(actions));
    }
    insertActionRows(actions) {
        this.insertRows(INSERT_ACTIONS, actions, (a) => [
            a.id,
            a.taskId,
            a.stepIndex,
            a.step,
            a.target,
            a.worker,
            a.state,
            a.attempt,
        ]);
    }
    /** `rows` with `statements` (see inserts), up to ROWS_PER_INSERT a statement. */
    insertRows(statements, rows, values) {
        for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
            const chunk = rows.slice(i, i + ROWS_PER_INSERT);
            this.run(statements[chunk.length - 1], ...chunk.flatMap(values));
        }
    }
    async updateAction(id, patch) {
        const sets = [];
        const values = [];
        for (const [k, v] of Object.entries(patch)) {
            const col = rows/* ACTION_COLUMNS */.Tw[k];
            if (!col)
                continue;
            sets.push(`${col} = ?`);
            values.push(v);
        }
        if (sets.length)
            await this.write(() => this.run(`UPDATE actions SET ${sets.join(', ')} WHERE id = ?`, ...values, id));
    }
    async finishAction(end, heldTarget, next) {
        await this.write(() => {
            this.endAction(end);
            if (heldTarget !== null)
                this.releaseLock(heldTarget, end.id, next);
        });
    }
    releaseLock(target, actionId, next) {
        if (!next) {
            this.run('DELETE FROM target_locks WHERE target = ? AND action_id = ?', target, actionId);
            return;
        }
        if (this.passLock(target, 'action_id', actionId, next) === 0)
            throw new types/* LockNotHeldError */.iV(target, actionId);
    }
    /** Gives the target's lock, held by `holderId` (an action or task id), to `next`; the row is never free. */
    passLock(target, by, holderId, next) {
        return this.run(`UPDATE target_locks SET task_id = ?, action_id = ?, since = ? WHERE target = ? AND ${by} = ?`, next.taskId, next.actionId, Date.now(), target, holderId);
    }
    endAction(end) {
        this.run('UPDATE actions SET state = ?, finished_at = ?, exit_code = ?, message = ?, waiting_on = NULL WHERE id = ?', end.state, end.finishedAt, end.exitCode, end.message, end.id);
    }
    async actionsOf(taskIds) {
        if (taskIds.length === 0)
            return [];
        return this.all(`SELECT * FROM actions WHERE task_id IN (SELECT value FROM json_each(?)) ORDER BY task_id, step_index, target`, JSON.stringify(taskIds)).map(rows/* toAction */.ih);
    }
    async lockTarget(target, taskId, actionId) {
        return this.write(() => {
            const n = this.run('INSERT INTO target_locks (target, task_id, action_id, since) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING', target, taskId, actionId, Date.now());
            if (n > 0)
                return { ok: true };
            // Inside one transaction the row that refused the insert is still there.
            const holder = this.get('SELECT task_id FROM target_locks WHERE target = ?', target);
            return { ok: false, holder: String(holder.task_id) };
        });
    }
    async unlockTarget(target, actionId, next) {
        await this.write(() => this.releaseLock(target, actionId, next));
    }
    async appendEvents(events) {
        if (events.length === 0)
            return;
        await this.write(() => this.insertEvents(events));
    }
    insertEvents(events) {
        const now = Date.now();
        this.insertRows(INSERT_EVENTS, events, (e) => [
            e.deploymentId,
            e.taskId,
            e.type,
            JSON.stringify(e.data),
            e.at ?? now,
        ]);
    }
    async eventsSince(deploymentId, afterId, limit) {
        return this.allLimited('SELECT * FROM events WHERE deployment_id = ? AND id > ? ORDER BY id', limit, deploymentId, afterId).map(rows/* toEvent */.IZ);
    }
    async taskLog(taskId) {
        return this.all(`SELECT * FROM events WHERE task_id = ? AND type = 'log' ORDER BY id`, taskId).map(rows/* toEvent */.IZ);
    }
    async useTokenId(jti, expiresAt) {
        return this.write(() => {
            this.run('DELETE FROM token_ids WHERE expires_at < ?', Date.now());
            return (this.run('INSERT INTO token_ids (jti, expires_at) VALUES (?, ?) ON CONFLICT DO NOTHING', jti, expiresAt) > 0);
        });
    }
    // ---- the check-run outbox ----------------------------------------------
    async touchCheckRun(deploymentId) {
        await this.write(() => this.run(`INSERT INTO check_runs (deployment_id, version, touched_at) VALUES (?, 1, ?)
         ON CONFLICT (deployment_id) DO UPDATE SET version = version + 1, touched_at = excluded.touched_at
         WHERE NOT completed`, deploymentId, Date.now()));
    }
    async pendingCheckRuns(limit) {
        return this.allLimited('SELECT * FROM check_runs WHERE version > sent_version ORDER BY touched_at', limit).map(rows/* toCheckRun */.N_);
    }
    async getCheckRun(deploymentId) {
        const r = this.get('SELECT * FROM check_runs WHERE deployment_id = ?', deploymentId);
        return r ? (0,rows/* toCheckRun */.N_)(r) : null;
    }
    async markCheckRunSent(deploymentId, sent) {
        this.run(`UPDATE check_runs SET sent_version = MAX(sent_version, ?), check_run_id = ?, sent_at = ?, annotations = ?,
         completed = ? WHERE deployment_id = ?`, sent.version, sent.checkRunId, sent.at, sent.annotations, sent.completed ? 1 : 0, deploymentId);
    }
}

// EXTERNAL MODULE: ./runner-agent/src/worker/local.ts + 1 modules
var local = __webpack_require__(65863);
;// CONCATENATED MODULE: ./runner-agent/src/agent.ts
// Puts an agent together from its settings: store, local worker, coordinator
// and HTTP API. Used by `flotilla agent`, by `flotilla run` (embedded) and by tests.








async function openStore(settings) {
    if (settings.databaseUrl) {
        // Loaded only by nodes that share a database: one-node agents never load the driver.
        const { openPostgresStore } = await Promise.all(/* import() */[__webpack_require__.e(534), __webpack_require__.e(366)]).then(__webpack_require__.bind(__webpack_require__, 13366));
        return openPostgresStore(settings.databaseUrl, { applicationName: `flotilla ${settings.node}` });
    }
    return new SqliteStore(settings.dataDir);
}
async function startAgent(settings, log = pino_default()({ level: 'silent' })) {
    const store = await openStore(settings);
    const packages = new packages_cache/* PackageCache */.h(settings.packages);
    try {
        await packages.open();
        const worker = new local/* LocalWorker */.A({
            name: settings.node,
            pools: settings.worker.pools,
            targets: settings.worker.targets,
            workDir: (0,external_node_path_.join)(settings.dataDir, 'work'),
            killGraceMs: settings.killGraceMs,
            packages,
        });
        const coordinator = new Coordinator({
            store,
            node: settings.node,
            taskCap: settings.taskCap,
            worker,
            localMaxActions: settings.worker.maxActions,
            log,
            leaseTtlMs: settings.leaseTtlMs,
            retryBackoffMs: settings.retryBackoffMs,
        });
        coordinator.signals.on('error', (err) => log.error({ err }, 'request failed'));
        let url = '';
        const server = buildServer({
            coordinator,
            auth: settings.auth,
            leaseTtlMs: settings.leaseTtlMs,
            baseUrl: () => url,
            packages,
            idleTimeoutMs: settings.idleTimeoutMs,
        });
        const reporter = new CheckRunReporter({
            store,
            events: coordinator.events,
            github: settings.github,
            waitingOn: () => coordinator.waitingOn(),
            baseUrl: () => url,
            log,
        });
        await coordinator.start();
        reporter.start();
        const address = await server.listen({ host: settings.listen.host, port: settings.listen.port });
        url = address;
        log.info({ url, node: settings.node, taskCap: coordinator.taskCap }, 'agent ready');
        let stopped = null;
        return {
            coordinator,
            url,
            stop: () => {
                stopped ??= (async () => {
                    await coordinator.stop();
                    await reporter.stop();
                    await worker.close();
                    await server.close();
                    await packages.close();
                    await store.close();
                })();
                return stopped;
            },
        };
    }
    catch (err) {
        await packages.close();
        await store.close();
        throw err;
    }
}


/***/ }),

/***/ 78894:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   S: () => (/* binding */ newId)
/* harmony export */ });
/* harmony import */ var node_crypto__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(77598);
/* harmony import */ var node_crypto__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_crypto__WEBPACK_IMPORTED_MODULE_0__);
// Ids like dep_01jd3k\u2026: a time prefix keeps them roughly sortable in listings,
// random bits keep them unguessable.

// Random bytes are drawn 4 KiB at a time, each byte used once: a draw per id
// (thousands when a deployment starts) showed in the agent's CPU profile.
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let used = 0;
function newId(prefix) {
    if (used + 8 > pool.length) {
        pool = (0,node_crypto__WEBPACK_IMPORTED_MODULE_0__.randomBytes)(POOL_BYTES);
        used = 0;
    }
    used += 8;
    return `${prefix}_${Date.now().toString(36)}${pool.toString('hex', used - 8, used)}`;
}


/***/ }),

/***/ 45821:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   FM: () => (/* binding */ toTask),
/* harmony export */   HG: () => (/* binding */ toDeployment),
/* harmony export */   IZ: () => (/* binding */ toEvent),
/* harmony export */   Ln: () => (/* binding */ claimOrder),
/* harmony export */   N_: () => (/* binding */ toCheckRun),
/* harmony export */   Q6: () => (/* binding */ recoveryEvent),
/* harmony export */   QB: () => (/* binding */ afterCrash),
/* harmony export */   Tw: () => (/* binding */ ACTION_COLUMNS),
/* harmony export */   Z7: () => (/* binding */ nodeIsLive),
/* harmony export */   ih: () => (/* binding */ toAction),
/* harmony export */   ye: () => (/* binding */ toNode)
/* harmony export */ });
/** The order in which queued tasks are considered: high priority first, then submission. */
const claimOrder = 'priority DESC, seq';
const num = (v) => (v === null || v === undefined ? null : Number(v));
const str = (v) => (v === null || v === undefined ? null : String(v));
const json = (v) => (typeof v === 'string' ? JSON.parse(v) : v);
function toNode(r) {
    return {
        name: String(r.name),
        taskCap: Number(r.task_cap),
        resumeCap: num(r.resume_cap),
        epoch: Number(r.epoch),
        heartbeatAt: Number(r.heartbeat_at),
        startedAt: Number(r.started_at),
        stoppedAt: num(r.stopped_at),
        running: Number(r.running ?? 0),
    };
}
/** A node is live while its agent runs and has heartbeated within the lease. */
function nodeIsLive(n, now, leaseTtlMs) {
    return n.stoppedAt === null && n.heartbeatAt >= now - leaseTtlMs;
}
function toDeployment(r) {
    return {
        id: String(r.id),
        idempotencyKey: str(r.idempotency_key),
        project: String(r.project),
        environment: String(r.environment),
        release: String(r.release),
        plan: json(r.plan),
        github: r.github ? json(r.github) : null,
        secrets: json(r.secret_values) ?? {},
        state: r.state,
        createdAt: Number(r.created_at),
        finishedAt: num(r.finished_at),
    };
}
function toTask(r) {
    return {
        id: String(r.id),
        seq: Number(r.seq),
        deploymentId: String(r.deployment_id),
        tenant: str(r.tenant),
        concurrencyTag: String(r.concurrency_tag),
        priority: Number(r.priority),
        state: r.state,
        node: str(r.node),
        epoch: num(r.epoch),
        actionStarted: Boolean(Number(r.action_started)),
        queuedAt: Number(r.queued_at),
        startedAt: num(r.started_at),
        finishedAt: num(r.finished_at),
        message: str(r.message),
    };
}
function toAction(r) {
    return {
        id: String(r.id),
        taskId: String(r.task_id),
        stepIndex: Number(r.step_index),
        step: String(r.step),
        target: str(r.target),
        worker: str(r.worker),
        state: r.state,
        attempt: Number(r.attempt),
        startedAt: num(r.started_at),
        finishedAt: num(r.finished_at),
        exitCode: num(r.exit_code),
        message: str(r.message),
        waitingOn: str(r.waiting_on),
    };
}
function toEvent(r) {
    return {
        id: Number(r.id),
        deploymentId: String(r.deployment_id),
        taskId: str(r.task_id),
        type: String(r.type),
        data: json(r.data),
        at: Number(r.at),
    };
}
function toCheckRun(r) {
    return {
        deploymentId: String(r.deployment_id),
        checkRunId: num(r.check_run_id),
        version: Number(r.version),
        sentVersion: Number(r.sent_version),
        sentAt: num(r.sent_at),
        annotations: Number(r.annotations),
        completed: Boolean(Number(r.completed)),
    };
}
/** Store columns of the action fields that updateAction may patch. */
const ACTION_COLUMNS = {
    state: 'state',
    attempt: 'attempt',
    startedAt: 'started_at',
    finishedAt: 'finished_at',
    exitCode: 'exit_code',
    message: 'message',
    worker: 'worker',
    waitingOn: 'waiting_on',
};
/**
 * The crash rule for one running task of a node that stopped: a task that had
 * started no action goes back to the queue (at its old position: seq is kept),
 * one that had goes back only when its plan says onInterrupt: requeue, else it
 * is interrupted. Returns the task as the store keeps it (the coordinator
 * reports these rows), with finishedAt left to the caller.
 */
function afterCrash(task, onInterrupt) {
    const message = task.actionStarted
        ? `node ${task.node} stopped while the task was running`
        : `node ${task.node} stopped before the task started an action; requeued`;
    if (task.actionStarted && onInterrupt !== 'requeue')
        return { ...task, state: 'interrupted', message };
    return {
        ...task,
        state: 'queued',
        node: null,
        epoch: null,
        startedAt: null,
        actionStarted: false,
        message: task.actionStarted ? `${message}; requeued (onInterrupt: requeue)` : message,
    };
}
/**
 * The event telling of a task the crash rule moved (task.requeued, or
 * task.finished as interrupted). Stores write it in the recovery's own
 * transaction: a node killed right after recovering cannot lose it.
 */
function recoveryEvent(t) {
    return {
        deploymentId: t.deploymentId,
        taskId: t.id,
        type: t.state === 'queued' ? 'task.requeued' : 'task.finished',
        data: { state: t.state, tenant: t.tenant, message: t.message },
    };
}


/***/ }),

/***/ 66143:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   Q2: () => (/* binding */ StaleLeaseError),
/* harmony export */   iV: () => (/* binding */ LockNotHeldError),
/* harmony export */   oi: () => (/* binding */ TERMINAL_TASK_STATES)
/* harmony export */ });
const TERMINAL_TASK_STATES = ['succeeded', 'failed', 'cancelled', 'interrupted'];
class StaleLeaseError extends Error {
    constructor(what) {
        super(`${what}: the lease is no longer held (another node took over, or the task was cancelled)`);
    }
}
/** A target lock was to be passed on by an action that does not hold it. */
class LockNotHeldError extends Error {
    constructor(target, actionId) {
        super(`target ${target} is not held by action ${actionId}`);
    }
}


/***/ })

};
