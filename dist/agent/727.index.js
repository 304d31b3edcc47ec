export const id = 727;
export const ids = [727];
export const modules = {

/***/ 51699:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  p: () => (/* binding */ followDeployment),
  s: () => (/* binding */ submitPlanFile)
});

// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(77598);
// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(73024);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(76760);
// EXTERNAL MODULE: external "node:stream/promises"
var promises_ = __webpack_require__(46466);
;// CONCATENATED MODULE: ./src/client/packages.ts
// Upload packages, on the client's side: each `upload:` file of a prepared
// plan is hashed (streaming), checked against the plan's sha256 when it
// gives one, and sent to the agent unless the agent has it already. The
// submission then carries the sha256, which is how the agent finds the file.




async function sha256File(file) {
    const hash = (0,external_node_crypto_.createHash)('sha256');
    await (0,promises_.pipeline)((0,external_node_fs_.createReadStream)(file, { highWaterMark: 1 << 20 }), hash);
    return hash.digest('hex');
}
/**
 * Hashes every upload package of a plan body and sets its sha256 there.
 * Paths are relative to `cwd` (the workspace, where the commands run).
 */
async function hashUploads(body, cwd) {
    const packages = (body.packages ?? {});
    const uploads = [];
    const issues = [];
    for (const [name, p] of Object.entries(packages)) {
        if (typeof p.upload !== 'string')
            continue;
        const file = (0,external_node_path_.resolve)(cwd, p.upload);
        const path = `/packages/${name}/upload`;
        let sha256;
        try {
            sha256 = await sha256File(file);
        }
        catch (err) {
            const code = err.code;
            issues.push({
                path,
                message: `package file ${file} cannot be read: ${code === 'ENOENT' ? 'it does not exist' : err.message}`,
            });
            continue;
        }
        if (p.sha256 && p.sha256 !== sha256) {
            issues.push({
                path: `/packages/${name}/sha256`,
                message: `${file} hashes to ${sha256}, not ${p.sha256}`,
            });
            continue;
        }
        p.sha256 = sha256;
        uploads.push({ name, file, sha256 });
    }
    return { uploads, issues };
}
/** Sends the packages the agent lacks; `say` reports each one. */
async function uploadMissing(client, uploads, say) {
    for (const u of uploads) {
        if (await client.hasPackage(u.sha256)) {
            say(`package ${u.name}: the agent has it already (sha256 ${u.sha256.slice(0, 12)}\u2026)`);
            continue;
        }
        const t0 = performance.now();
        const r = await client.uploadPackage(u.sha256, u.file);
        say(`package ${u.name}: uploaded ${r.bytes} bytes in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    }
}

// EXTERNAL MODULE: external "node:fs/promises"
var external_node_fs_promises_ = __webpack_require__(51455);
// EXTERNAL MODULE: ./src/plan/index.ts + 9 modules
var plan = __webpack_require__(91816);
;// CONCATENATED MODULE: ./src/client/prepare.ts
// Prepares a plan file for submission, on the client's side: the plan is
// checked here (with line numbers), and script paths, which mean files next to
// the plan on this machine, are replaced by the scripts' text, since the agent
// cannot see this machine's files.




const MAX_SCRIPT_BYTES = 1024 * 1024;
/**
 * `workspace` is where `upload:` paths start (where the commands run: the
 * repository root in a workflow); each upload file is hashed and its sha256
 * set in the body, ready for `uploadMissing`.
 */
async function preparePlan(path, workspace) {
    const source = await (0,plan/* readDocumentFile */.K7)(path);
    if (!source.ok)
        return source;
    const checked = (0,plan/* validatePlanValue */.T$)(source.value, source.locate);
    if (!checked.ok)
        return checked;
    const body = structuredClone(source.value);
    const issues = [];
    for (const [i, step] of body.steps.entries()) {
        if (typeof step.run !== 'string')
            continue;
        const script = (0,plan/* parseScript */.tl)(step.run);
        if (!('path' in script))
            continue;
        const file = (0,external_node_path_.resolve)((0,external_node_path_.dirname)(path), script.path);
        try {
            const info = await (0,external_node_fs_promises_.stat)(file);
            if (info.size > MAX_SCRIPT_BYTES)
                throw new Error(`it is larger than 1 MiB`);
            // A leading comment keeps the origin visible in logs and makes the text inline for the agent.
            step.run = `# ${script.path}\n${await (0,external_node_fs_promises_.readFile)(file, 'utf8')}`;
        }
        catch (err) {
            const why = err.code === 'ENOENT' ? 'it does not exist' : err.message;
            issues.push({
                path: `/steps/${i}/run`,
                message: `script ${file} cannot be read: ${why}`,
                ...source.locate(['steps', i, 'run']),
            });
        }
    }
    const hashed = await hashUploads(body, workspace);
    issues.push(...hashed.issues);
    return issues.length
        ? { ok: false, issues }
        : { ok: true, plan: checked.plan, body, uploads: hashed.uploads };
}

// EXTERNAL MODULE: ./src/client/progress.ts
var client_progress = __webpack_require__(67548);
;// CONCATENATED MODULE: ./runner-agent/src/cli/follow.ts




/** Returns the deployment id, or null after printing why the plan was refused. */
async function submitPlanFile(client, file, flags, out) {
    const prepared = await preparePlan(file, process.cwd());
    if (!prepared.ok) {
        for (const issue of prepared.issues)
            out.error((0,plan/* formatIssue */.Hd)(file, issue));
        return null;
    }
    await uploadMissing(client, prepared.uploads, out.line);
    const r = await client.submit({
        plan: prepared.body,
        release: flags.release,
        environment: flags.environment,
        tenants: flags.tenant,
    });
    out.line(`deployment ${r.id}: ${r.tasks.length} task${r.tasks.length === 1 ? '' : 's'} queued (${r.url})`);
    return r.id;
}
/** Follows to the end; returns the final state. */
async function followDeployment(client, id, out) {
    const progress = new client_progress/* DeploymentProgress */.Z();
    const { status } = out;
    // On a terminal, a counter stays on the last line: lines are printed above
    // it, and it is drawn again at once after them, else at most every 100 ms.
    let drawnAt = 0;
    let drawn = false;
    await client.follow(id, (e) => {
        const lines = progress.apply(e);
        if (!out.tty || !status) {
            for (const l of lines)
                out.line(l);
            return;
        }
        if (lines.length > 0) {
            status('');
            for (const l of lines)
                out.line(l);
            drawn = false;
        }
        if (progress.tasks.size === 0 || (drawn && Date.now() - drawnAt <= 100))
            return;
        const c = progress.counts();
        status(`${progress.tasks.size} tasks: ${['running', 'queued', 'succeeded', 'failed'].map((s) => `${c[s] ?? 0} ${s}`).join(', ')}`);
        drawnAt = Date.now();
        drawn = true;
    });
    if (out.tty && status)
        status('');
    const view = await client.deployment(id);
    const rows = [['TENANT', 'STATE', 'STARTED', 'FINISHED', 'MESSAGE']];
    for (const t of view.tasks) {
        rows.push([
            t.tenant ?? '-',
            t.state,
            t.startedAt?.slice(11, 19) ?? '-',
            t.finishedAt?.slice(11, 19) ?? '-',
            t.message ?? '',
        ]);
    }
    out.line((0,client_progress/* formatTable */.k)(rows.length > 51 ? [...rows.slice(0, 51), [`\u2026 ${rows.length - 51} more`]] : rows));
    return view.state;
}


/***/ }),

/***/ 32727:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   cancelCommand: () => (/* binding */ cancelCommand),
/* harmony export */   capCommand: () => (/* binding */ capCommand),
/* harmony export */   clientOf: () => (/* binding */ clientOf),
/* harmony export */   deployCommand: () => (/* binding */ deployCommand),
/* harmony export */   drainCommand: () => (/* binding */ drainCommand),
/* harmony export */   resumeCommand: () => (/* binding */ resumeCommand),
/* harmony export */   statusCommand: () => (/* binding */ statusCommand)
/* harmony export */ });
/* harmony import */ var _src_client_client_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(74064);
/* harmony import */ var _src_client_progress_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(67548);
/* harmony import */ var _follow_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(51699);
// Commands that talk to a running agent over HTTP with the shared client.



const clientOf = (f) => new _src_client_client_js__WEBPACK_IMPORTED_MODULE_0__/* .AgentClient */ .R(f.agent, { token: f.token, urlFrom: f.urlFrom ?? '--agent (FLOTILLA_AGENT_URL)' });
async function deployCommand(file, flags, out) {
    const client = clientOf(flags);
    const id = await (0,_follow_js__WEBPACK_IMPORTED_MODULE_1__/* .submitPlanFile */ .s)(client, file, flags, out);
    if (!id)
        return 1;
    if (!flags.wait)
        return 0;
    return (await (0,_follow_js__WEBPACK_IMPORTED_MODULE_1__/* .followDeployment */ .p)(client, id, out)) === 'succeeded' ? 0 : 1;
}
async function statusCommand(deployment, flags, out) {
    const client = clientOf(flags);
    if (deployment) {
        const d = await client.deployment(deployment);
        out.line(`deployment ${d.id} ${d.project} \u2192 ${d.environment} ${d.release}: ${d.state}`);
        const rows = [['TASK', 'TENANT', 'STATE', 'NODE', 'WAITING ON / MESSAGE']];
        for (const t of d.tasks)
            rows.push([t.id, t.tenant ?? '-', t.state, t.node ?? '-', t.waitingOn ?? t.message ?? '']);
        out.line((0,_src_client_progress_js__WEBPACK_IMPORTED_MODULE_2__/* .formatTable */ .k)(rows));
        return 0;
    }
    const [nodes, workers, queue, deployments] = await Promise.all([
        client.nodes(),
        client.workers(),
        client.queue(),
        client.deployments(),
    ]);
    out.line('NODES');
    out.line((0,_src_client_progress_js__WEBPACK_IMPORTED_MODULE_2__/* .formatTable */ .k)([
        ['NODE', 'CAP', 'RUNNING', 'STATE', 'LAST HEARTBEAT'],
        ...nodes.map((n) => [
            n.name,
            String(n.taskCap),
            String(n.running),
            n.live ? (n.draining ? 'draining' : 'ready') : 'offline',
            n.lastHeartbeat,
        ]),
    ]));
    out.line('');
    out.line('WORKERS');
    out.line((0,_src_client_progress_js__WEBPACK_IMPORTED_MODULE_2__/* .formatTable */ .k)([
        ['WORKER', 'STATE', 'ACTIONS', 'POOLS', 'TARGETS'],
        ...workers.map((w) => [
            w.local ? `${w.name} (own)` : w.name,
            w.state,
            w.maxActions === null ? String(w.runningActions) : `${w.runningActions}/${w.maxActions}`,
            w.pools.join(',') || '-',
            w.targets.map((t) => t.name).join(',') || '-',
        ]),
    ]));
    out.line('');
    out.line(`QUEUE (${queue.length})`);
    if (queue.length) {
        out.line((0,_src_client_progress_js__WEBPACK_IMPORTED_MODULE_2__/* .formatTable */ .k)([
            ['TASK', 'TENANT', 'DEPLOYMENT', 'WAITING ON'],
            ...queue.slice(0, 50).map((t) => [t.id, t.tenant ?? '-', t.deploymentId, t.waitingOn ?? '']),
        ]));
    }
    out.line('');
    out.line('RECENT DEPLOYMENTS');
    out.line((0,_src_client_progress_js__WEBPACK_IMPORTED_MODULE_2__/* .formatTable */ .k)([
        ['DEPLOYMENT', 'PROJECT', 'ENVIRONMENT', 'RELEASE', 'STATE', 'CREATED'],
        ...deployments
            .slice(0, 10)
            .map((d) => [d.id, d.project, d.environment, d.release, d.state, d.createdAt]),
    ]));
    return 0;
}
async function cancelCommand(deployment, flags, out) {
    const r = await clientOf(flags).cancel(deployment);
    out.line(`deployment ${r.id}: ${r.state === 'cancelled' ? 'cancelled' : `cancelling (now ${r.state})`}`);
    return 0;
}
async function drainCommand(node, flags, out) {
    const client = clientOf(flags);
    let n = await client.drain(node, flags.wait);
    // The agent answers a waiting drain within 25 s; ask again until the node is idle.
    while (flags.wait && n.running > 0) {
        out.line(`node ${node}: draining, ${n.running} task(s) still running`);
        n = await client.drain(node, true);
    }
    out.line(`node ${node}: task cap 0 (draining), ${n.running} running`);
    return 0;
}
async function resumeCommand(node, flags, out) {
    const n = await clientOf(flags).resume(node);
    out.line(`node ${node}: resumed, task cap ${n.taskCap}`);
    return 0;
}
async function capCommand(node, cap, flags, out) {
    if (!/^\d+$/.test(cap)) {
        out.error(`flotilla: task cap must be a whole number from 0, not "${cap}"`);
        return 1;
    }
    const n = await clientOf(flags).setCap(node, Number(cap));
    out.line(`node ${node}: task cap ${n.taskCap}`);
    return 0;
}


/***/ }),

/***/ 74064:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   R: () => (/* binding */ AgentClient)
/* harmony export */ });
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(73024);
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_fs__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var node_fs_promises__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(51455);
/* harmony import */ var node_fs_promises__WEBPACK_IMPORTED_MODULE_1___default = /*#__PURE__*/__webpack_require__.n(node_fs_promises__WEBPACK_IMPORTED_MODULE_1__);
/* harmony import */ var undici__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(24371);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(66468);
// The agent's HTTP client, used by the action and the CLI alike (undici).
// Errors carry the agent's own message and issues, so callers print them as is.




class AgentClient {
    baseUrl;
    opts;
    constructor(baseUrl, opts = {}) {
        this.baseUrl = baseUrl.replace(/\/+$/, '');
        this.opts = opts;
    }
    async headers(extra = {}) {
        const t = this.opts.token;
        const token = typeof t === 'function' ? await t() : t;
        return {
            accept: 'application/json',
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...extra,
        };
    }
    async call(method, path, body) {
        let res;
        const headers = await this.headers(body === undefined ? {} : { 'content-type': 'application/json' });
        try {
            res = await (0,undici__WEBPACK_IMPORTED_MODULE_2__/* .request */ .Em)(`${this.baseUrl}${path}`, {
                method,
                headers,
                body: body === undefined ? undefined : JSON.stringify(body),
                headersTimeout: this.opts.timeoutMs ?? 60_000,
                bodyTimeout: this.opts.timeoutMs ?? 60_000,
            });
        }
        catch (err) {
            const cause = err.cause?.code ?? err.code;
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .AgentError */ .Y(0, 'unreachable', `cannot reach the Flotilla agent at ${this.baseUrl}${cause ? ` (${cause})` : ''}: ${err.message}. ` +
                `Is the agent running, and is ${this.opts.urlFrom ?? 'its URL'} right?`);
        }
        const text = await res.body.text();
        let parsed;
        try {
            parsed = text ? JSON.parse(text) : undefined;
        }
        catch {
            parsed = text;
        }
        if (res.statusCode >= 400) {
            const e = parsed?.error;
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .AgentError */ .Y(res.statusCode, e?.code ?? 'http_error', e?.message ?? `the agent answered ${res.statusCode}: ${String(text).slice(0, 200)}`, e?.issues ?? []);
        }
        return { status: res.statusCode, body: parsed };
    }
    async submit(req) {
        const r = await this.call('POST', '/v1/deployments', req);
        return { ...r.body, created: r.status === 201 };
    }
    async deployment(id) {
        return (await this.call('GET', `/v1/deployments/${encodeURIComponent(id)}`)).body;
    }
    async cancel(id) {
        return (await this.call('POST', `/v1/deployments/${encodeURIComponent(id)}/cancel`)).body;
    }
    async queue() {
        return (await this.call('GET', '/v1/queue')).body;
    }
    async deployments() {
        return (await this.call('GET', '/v1/deployments')).body;
    }
    async nodes() {
        return (await this.call('GET', '/v1/nodes')).body;
    }
    async workers() {
        return (await this.call('GET', '/v1/workers')).body;
    }
    async setCap(node, taskCap) {
        return (await this.call('PUT', `/v1/nodes/${encodeURIComponent(node)}`, { taskCap })).body;
    }
    async drain(node, wait = false) {
        return (await this.call('POST', `/v1/nodes/${encodeURIComponent(node)}/drain`, { wait })).body;
    }
    async resume(node) {
        return (await this.call('POST', `/v1/nodes/${encodeURIComponent(node)}/resume`, {})).body;
    }
    /** Whether the agent has the package with this sha256 (HEAD /v1/packages/:sha256). */
    async hasPackage(sha256) {
        const res = await this.send('HEAD', `/v1/packages/${sha256}`);
        await res.body.dump();
        if (res.statusCode === 200 || res.statusCode === 404)
            return res.statusCode === 200;
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .AgentError */ .Y(res.statusCode, 'http_error', `the agent answered ${res.statusCode} to HEAD /v1/packages`);
    }
    /** Streams a package file to the agent, which keeps it only if it hashes to `sha256`. */
    async uploadPackage(sha256, file) {
        const { size } = await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_1__.stat)(file);
        const res = await this.send('POST', `/v1/packages/${sha256}`, {
            body: (0,node_fs__WEBPACK_IMPORTED_MODULE_0__.createReadStream)(file),
            headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
        });
        const text = await res.body.text();
        if (res.statusCode >= 400) {
            const e = JSON.parse(text || '{}').error;
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .AgentError */ .Y(res.statusCode, e?.code ?? 'http_error', e?.message ?? `the agent answered ${res.statusCode}`);
        }
        return JSON.parse(text);
    }
    async send(method, path, opts = {}) {
        const headers = await this.headers(opts.headers);
        try {
            return await (0,undici__WEBPACK_IMPORTED_MODULE_2__/* .request */ .Em)(`${this.baseUrl}${path}`, { method, headers, body: opts.body });
        }
        catch (err) {
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .AgentError */ .Y(0, 'unreachable', `cannot reach the Flotilla agent at ${this.baseUrl}: ${err.message}`);
        }
    }
    async taskLog(taskId) {
        const res = await (0,undici__WEBPACK_IMPORTED_MODULE_2__/* .request */ .Em)(`${this.baseUrl}/v1/tasks/${encodeURIComponent(taskId)}/log`, {
            headers: await this.headers(),
        });
        return res.body.text();
    }
    /**
     * Follows a deployment's events until deployment.finished, reconnecting with
     * Last-Event-ID when the connection drops (an agent restart, say).
     */
    async follow(id, onEvent, signal) {
        let last = 0;
        let failures = 0;
        while (!signal?.aborted) {
            try {
                const res = await (0,undici__WEBPACK_IMPORTED_MODULE_2__/* .request */ .Em)(`${this.baseUrl}/v1/deployments/${encodeURIComponent(id)}/events`, {
                    headers: await this.headers({
                        accept: 'text/event-stream',
                        ...(last ? { 'last-event-id': String(last) } : {}),
                    }),
                    signal,
                    bodyTimeout: 60_000,
                });
                if (res.statusCode >= 400) {
                    const text = await res.body.text();
                    const e = JSON.parse(text || '{}').error;
                    throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .AgentError */ .Y(res.statusCode, e?.code ?? 'http_error', e?.message ?? text);
                }
                let buffer = '';
                let finished = false;
                for await (const chunk of res.body) {
                    buffer += chunk.toString();
                    let at = buffer.indexOf('\n\n');
                    while (at >= 0) {
                        const block = buffer.slice(0, at);
                        buffer = buffer.slice(at + 2);
                        const data = block
                            .split('\n')
                            .filter((l) => l.startsWith('data: '))
                            .map((l) => l.slice(6))
                            .join('\n');
                        if (data) {
                            const e = JSON.parse(data);
                            last = e.id;
                            failures = 0;
                            onEvent(e);
                            if (e.type === 'deployment.finished')
                                finished = true;
                        }
                        at = buffer.indexOf('\n\n');
                    }
                }
                if (finished)
                    return;
            }
            catch (err) {
                if (signal?.aborted)
                    return;
                if (err instanceof _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .AgentError */ .Y && err.status >= 400 && err.status < 500)
                    throw err;
                if (++failures > 30)
                    throw err;
            }
            await new Promise((r) => setTimeout(r, Math.min(1000 * failures, 5000) || 200));
        }
    }
}


/***/ }),

/***/ 67548:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   Z: () => (/* binding */ DeploymentProgress),
/* harmony export */   k: () => (/* binding */ formatTable)
/* harmony export */ });
class DeploymentProgress {
    tasks = new Map();
    state = 'queued';
    finished = false;
    task(e) {
        if (!e.taskId)
            return null;
        let t = this.tasks.get(e.taskId);
        if (!t) {
            t = {
                id: e.taskId,
                tenant: e.data.tenant ?? null,
                state: 'queued',
                waitingOn: null,
                message: null,
                startedAt: null,
                finishedAt: null,
                failedActions: [],
            };
            this.tasks.set(e.taskId, t);
        }
        return t;
    }
    /** Applies one event; returns the lines worth printing (possibly none). */
    apply(e) {
        const t = this.task(e);
        const who = t ? (t.tenant ?? 'task') : 'deployment';
        const d = e.data;
        switch (e.type) {
            case 'task.queued':
                return [];
            case 'task.waiting':
                if (!t || t.waitingOn === d.waitingOn)
                    return [];
                t.waitingOn = String(d.waitingOn);
                return [`${who}: waiting: ${t.waitingOn}`];
            case 'task.started':
                if (!t)
                    return [];
                t.state = 'running';
                t.waitingOn = null;
                t.startedAt = e.at;
                return [`${who}: started on node ${d.node}`];
            case 'task.requeued':
                if (t)
                    t.state = 'queued';
                return [`${who}: requeued: ${d.message}`];
            case 'task.finished':
                if (!t)
                    return [];
                t.state = String(d.state);
                t.message = d.message ?? null;
                t.finishedAt = e.at;
                t.waitingOn = null;
                return [`${who}: ${t.state}${t.message && t.message !== t.state ? ` (${t.message})` : ''}`];
            case 'action.failed':
                t?.failedActions.push({
                    step: String(d.step),
                    target: d.target ?? null,
                    message: String(d.message),
                });
                return [`${who}: ${d.step}${d.target ? `@${d.target}` : ''} failed: ${d.message}`];
            case 'action.retrying':
                return [
                    `${who}: ${d.step}${d.target ? `@${d.target}` : ''} attempt ${d.attempt} failed (${d.message}); retrying`,
                ];
            case 'action.waiting':
                return [`${who}: ${d.step}${d.target ? `@${d.target}` : ''} waiting: ${d.waitingOn}`];
            case 'deployment.running':
                this.state = 'running';
                return [];
            case 'deployment.finished':
                this.state = String(d.state);
                this.finished = true;
                return [
                    `deployment ${this.state}: ${d.succeeded} succeeded, ${d.failed} failed, ${d.interrupted} interrupted, ${d.cancelled} cancelled`,
                ];
            default:
                return [];
        }
    }
    counts() {
        const c = {};
        for (const t of this.tasks.values())
            c[t.state] = (c[t.state] ?? 0) + 1;
        return c;
    }
}
function formatTable(rows) {
    const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
    return rows
        .map((r) => r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd())
        .join('\n');
}


/***/ })

};
