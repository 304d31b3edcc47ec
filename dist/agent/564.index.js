export const id = 564;
export const ids = [564];
export const modules = {

/***/ 99564:
/***/ ((module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.a(module, async (__webpack_handle_async_dependencies__, __webpack_async_result__) => { try {
__webpack_require__.r(__webpack_exports__);
/* harmony import */ var commander__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(48179);
/* harmony import */ var _package_json__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(8330);
/* harmony import */ var _src_client_errors_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(66468);
/* harmony import */ var _config_settings_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(18950);
// The `flotilla` command line: one line per command here, the work in the modules.




// Commands load their modules when they run, so the long-running agent does
// not carry the HTTP client and a one-off command does not carry the server.
const remote = () => Promise.all(/* import() */[__webpack_require__.e(752), __webpack_require__.e(727)]).then(__webpack_require__.bind(__webpack_require__, 32727));
const out = {
    line: (t) => console.log(t),
    error: (t) => console.error(t),
    tty: Boolean(process.stdout.isTTY),
    status: (t) => process.stdout.write(`\r\x1b[2K${t}`),
};
const collect = (v, prev = []) => [...prev, v];
const agentUrl = () => new commander__WEBPACK_IMPORTED_MODULE_0__/* .Option */ .c$('-a, --agent <url>', 'agent URL').env('FLOTILLA_AGENT_URL').default('http://127.0.0.1:8420');
const token = () => new commander__WEBPACK_IMPORTED_MODULE_0__/* .Option */ .c$('-t, --token <token>', 'API token').env('FLOTILLA_TOKEN');
async function exit(code) {
    try {
        process.exitCode = await code;
    }
    catch (err) {
        if (err instanceof _config_settings_js__WEBPACK_IMPORTED_MODULE_3__/* .SettingsError */ .GN || err instanceof _src_client_errors_js__WEBPACK_IMPORTED_MODULE_2__/* .AgentError */ .Y) {
            console.error(`flotilla: ${err.message}`);
            if (err instanceof _src_client_errors_js__WEBPACK_IMPORTED_MODULE_2__/* .AgentError */ .Y)
                for (const i of err.issues)
                    console.error(`  ${i.path}: ${i.message}`);
        }
        else {
            console.error(`flotilla: ${err.message}`);
        }
        process.exitCode = 2;
    }
}
const program = new commander__WEBPACK_IMPORTED_MODULE_0__/* .Command */ .uB('flotilla')
    .description('Deployment coordinator for GitHub Actions: task caps, concurrency tags, workers and packages.')
    .version(_package_json__WEBPACK_IMPORTED_MODULE_1__/* .version */ .rE, '-V, --version', 'print the version')
    .showHelpAfterError();
const agentOptions = (c) => c
    .option('-c, --config <file>', 'agent config (flotilla.yml)')
    .option('--listen <host:port>', 'address to listen on (default 127.0.0.1:8420)')
    .option('--data-dir <dir>', 'embedded store and work files (default ./.flotilla)')
    .option('--database-url <url>', 'PostgreSQL shared by several nodes')
    .option('--node <name>', 'node name (default: host name)')
    .option('--task-cap <n>', 'tasks this node runs at once (default 5; 0 drains)')
    .option('--lease-ttl <duration>', 'how soon a dead node loses its tasks (default 30s)');
agentOptions(program.command('agent').description('run a coordinator and its local worker until SIGTERM (which drains)')).action(async (opts) => exit((await Promise.all(/* import() */[__webpack_require__.e(5), __webpack_require__.e(703), __webpack_require__.e(338), __webpack_require__.e(502), __webpack_require__.e(288)]).then(__webpack_require__.bind(__webpack_require__, 50288))).agentCommand(opts)));
agentOptions(program
    .command('run')
    .description('run a plan once on an embedded agent, with live progress; exit 0 on success, 1 on failure')
    .argument('<plan>', 'plan file'))
    .option('-r, --release <version>', 'release (overrides the plan)')
    .option('-e, --environment <name>', 'environment (overrides the plan)')
    .option('--tenant <name>', 'deploy only this tenant (repeatable)', collect)
    .action(async (file, opts) => exit((await Promise.all(/* import() */[__webpack_require__.e(752), __webpack_require__.e(5), __webpack_require__.e(703), __webpack_require__.e(338), __webpack_require__.e(502), __webpack_require__.e(284)]).then(__webpack_require__.bind(__webpack_require__, 75284))).runCommand(file, opts, out)));
program
    .command('worker')
    .description('run a remote worker: take actions from a coordinator and run them on this machine')
    .addOption(new commander__WEBPACK_IMPORTED_MODULE_0__/* .Option */ .c$('--coordinator <url>', 'the coordinator agent URL')
    .env('FLOTILLA_COORDINATOR')
    .makeOptionMandatory())
    .addOption(token())
    .option('--name <name>', 'worker name (default: host name)')
    .option('--pool <pool>', 'a pool this worker belongs to (repeatable; default: default)', collect)
    .option('--target <name:roles>', 'a target this worker hosts, e.g. web-1:web,api (repeatable)', collect)
    .option('--root <dir>', 'flag targets install under <dir>/<target>')
    .option('-c, --config <file>', 'config file (worker, packages and dataDir of the agent config format)')
    .option('--data-dir <dir>', 'package cache and work files (default ./.flotilla-worker)')
    .option('--max-actions <n>', 'actions this worker runs at once (default 10)')
    .action(async (opts) => exit((await Promise.all(/* import() */[__webpack_require__.e(752), __webpack_require__.e(5), __webpack_require__.e(338), __webpack_require__.e(199)]).then(__webpack_require__.bind(__webpack_require__, 7199))).workerCommand(opts)));
program
    .command('validate')
    .description('check plans; print every problem with its path and line')
    .argument('<plan...>', 'plan files (YAML or JSON)')
    .option('-c, --config <file>', 'an agent config whose targets each step must match')
    .option('-e, --environment <name>', 'environment to expand the plan for')
    .option('-r, --release <version>', 'release to expand the plan for')
    .action(async (files, opts) => exit((await __webpack_require__.e(/* import() */ 567).then(__webpack_require__.bind(__webpack_require__, 567))).validateCommand(files, opts, out.line)));
program
    .command('deploy')
    .description('submit a plan to a running agent')
    .argument('<plan>', 'plan file')
    .addOption(agentUrl())
    .addOption(token())
    .option('-r, --release <version>', 'release (overrides the plan)')
    .option('-e, --environment <name>', 'environment (overrides the plan)')
    .option('--tenant <name>', 'deploy only this tenant (repeatable)', collect)
    .option('-w, --wait', 'follow the deployment to the end; exit 1 if it fails')
    .action(async (file, opts) => exit((await remote()).deployCommand(file, opts, out)));
program
    .command('status')
    .description('a deployment, or the nodes, the workers, the queue with why each task waits, and recent deployments')
    .argument('[deployment]', 'deployment id')
    .addOption(agentUrl())
    .addOption(token())
    .action(async (id, opts) => exit((await remote()).statusCommand(id, opts, out)));
program
    .command('cancel')
    .description('cancel a deployment: queued tasks at once, running actions get SIGTERM')
    .argument('<deployment>', 'deployment id')
    .addOption(agentUrl())
    .addOption(token())
    .action(async (id, opts) => exit((await remote()).cancelCommand(id, opts, out)));
program
    .command('drain')
    .description('set a node to task cap 0: running tasks finish, queued ones wait or go to other nodes')
    .argument('<node>', 'node name')
    .addOption(agentUrl())
    .addOption(token())
    .option('-w, --wait', 'return once the node runs no task')
    .action(async (node, opts) => exit((await remote()).drainCommand(node, opts, out)));
program
    .command('resume')
    .description('give a drained node back its task cap')
    .argument('<node>', 'node name')
    .addOption(agentUrl())
    .addOption(token())
    .action(async (node, opts) => exit((await remote()).resumeCommand(node, opts, out)));
program
    .command('cap')
    .description("change a node's task cap")
    .argument('<node>', 'node name')
    .argument('<n>', 'new task cap')
    .addOption(agentUrl())
    .addOption(token())
    .action(async (node, n, opts) => exit((await remote()).capCommand(node, n, opts, out)));
await program.parseAsync();

__webpack_async_result__();
} catch(e) { __webpack_async_result__(e); } }, 1);

/***/ }),

/***/ 49211:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   O: () => (/* binding */ loadAgentConfigFile),
/* harmony export */   o: () => (/* binding */ inventoryOf)
/* harmony export */ });
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(76760);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_path__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var _src_plan_index_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(91816);
/* harmony import */ var _schema_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(83004);
// flotilla.yml in, a checked configuration out, with every problem located.



async function loadAgentConfigFile(path) {
    const source = await (0,_src_plan_index_js__WEBPACK_IMPORTED_MODULE_1__/* .readDocumentFile */ .K7)(path, 'agent config');
    if (!source.ok)
        return source;
    const parsed = _schema_js__WEBPACK_IMPORTED_MODULE_2__/* .agentConfigSchema */ .D.safeParse(source.value ?? {});
    if (parsed.success)
        return { ok: true, config: parsed.data };
    return {
        ok: false,
        issues: (0,_src_plan_index_js__WEBPACK_IMPORTED_MODULE_1__/* .zodIssues */ .mZ)(parsed.error, source.value).map((i) => ({
            path: (0,_src_plan_index_js__WEBPACK_IMPORTED_MODULE_1__/* .toPointer */ .rb)(i.path),
            message: i.message,
            ...source.locate(i.path),
        })),
    };
}
/** The targets this agent's own worker hosts; a target's root defaults to <dataDir>/targets/<name>. */
function inventoryOf(config, baseDir) {
    const dataDir = (0,node_path__WEBPACK_IMPORTED_MODULE_0__.resolve)(baseDir, config.dataDir ?? '.flotilla');
    return (config.worker?.targets ?? []).map((t) => ({
        name: t.name,
        roles: t.roles,
        host: t.host ?? t.name,
        root: (0,node_path__WEBPACK_IMPORTED_MODULE_0__.resolve)(baseDir, t.root ?? `${dataDir}/targets/${t.name}`),
        ...(t.tenants ? { tenants: t.tenants } : {}),
    }));
}


/***/ }),

/***/ 83004:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   D: () => (/* binding */ agentConfigSchema),
/* harmony export */   x: () => (/* binding */ targetConfigSchema)
/* harmony export */ });
/* harmony import */ var zod__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(38816);
// The agent's configuration file (flotilla.yml), as the design describes it.

const name = zod__WEBPACK_IMPORTED_MODULE_0__/* .string */ .YjP().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'use letters, digits, ".", "_" and "-"');
const byteSize = zod__WEBPACK_IMPORTED_MODULE_0__/* .union */ .KCZ([
    zod__WEBPACK_IMPORTED_MODULE_0__/* .number */ .aig().int().min(0),
    zod__WEBPACK_IMPORTED_MODULE_0__/* .string */ .YjP().regex(/^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?$/i, 'a size is like 500MB or 20GB'),
]);
const targetConfigSchema = zod__WEBPACK_IMPORTED_MODULE_0__/* .strictObject */ .rej({
    name,
    roles: zod__WEBPACK_IMPORTED_MODULE_0__/* .array */ .YOg(zod__WEBPACK_IMPORTED_MODULE_0__/* .string */ .YjP().min(1)).min(1),
    host: zod__WEBPACK_IMPORTED_MODULE_0__/* .string */ .YjP().min(1).optional(),
    root: zod__WEBPACK_IMPORTED_MODULE_0__/* .string */ .YjP().min(1).optional(),
    tenants: zod__WEBPACK_IMPORTED_MODULE_0__/* .array */ .YOg(name).optional(),
});
const agentConfigSchema = zod__WEBPACK_IMPORTED_MODULE_0__/* .strictObject */ .rej({
    node: name.optional(),
    listen: zod__WEBPACK_IMPORTED_MODULE_0__/* .string */ .YjP().min(1).optional(),
    dataDir: zod__WEBPACK_IMPORTED_MODULE_0__/* .string */ .YjP().min(1).optional(),
    databaseUrl: zod__WEBPACK_IMPORTED_MODULE_0__/* .string */ .YjP().min(1).optional(),
    taskCap: zod__WEBPACK_IMPORTED_MODULE_0__/* .number */ .aig().int().min(0).optional(),
    leaseTtl: zod__WEBPACK_IMPORTED_MODULE_0__/* .union */ .KCZ([zod__WEBPACK_IMPORTED_MODULE_0__/* .number */ .aig().positive(), zod__WEBPACK_IMPORTED_MODULE_0__/* .string */ .YjP()]).optional(),
    worker: zod__WEBPACK_IMPORTED_MODULE_0__/* .strictObject */ .rej({
        pools: zod__WEBPACK_IMPORTED_MODULE_0__/* .array */ .YOg(name).optional(),
        maxActions: zod__WEBPACK_IMPORTED_MODULE_0__/* .number */ .aig().int().min(1).optional(),
        targets: zod__WEBPACK_IMPORTED_MODULE_0__/* .array */ .YOg(targetConfigSchema).optional(),
    })
        .optional(),
    packages: zod__WEBPACK_IMPORTED_MODULE_0__/* .strictObject */ .rej({
        cacheDir: zod__WEBPACK_IMPORTED_MODULE_0__/* .string */ .YjP().min(1).optional(),
        maxCacheBytes: byteSize.optional(),
        maxPackageBytes: byteSize.optional(),
        allowedHosts: zod__WEBPACK_IMPORTED_MODULE_0__/* .array */ .YOg(zod__WEBPACK_IMPORTED_MODULE_0__/* .string */ .YjP().min(1)).optional(),
    })
        .optional(),
    auth: zod__WEBPACK_IMPORTED_MODULE_0__/* .strictObject */ .rej({
        tokens: zod__WEBPACK_IMPORTED_MODULE_0__/* .array */ .YOg(zod__WEBPACK_IMPORTED_MODULE_0__/* .strictObject */ .rej({
            name,
            sha256: zod__WEBPACK_IMPORTED_MODULE_0__/* .string */ .YjP().regex(/^[a-f0-9]{64}$/, 'sha256 of the token, 64 lowercase hex characters'),
            scopes: zod__WEBPACK_IMPORTED_MODULE_0__/* .array */ .YOg(zod__WEBPACK_IMPORTED_MODULE_0__/* ["enum"] */ .k5n(['deploy', 'drain', 'read', 'worker'])).min(1),
        }))
            .optional(),
        oidc: zod__WEBPACK_IMPORTED_MODULE_0__/* .strictObject */ .rej({
            issuer: zod__WEBPACK_IMPORTED_MODULE_0__/* .string */ .YjP().url(),
            audience: zod__WEBPACK_IMPORTED_MODULE_0__/* .string */ .YjP().min(1),
            jwksUrl: zod__WEBPACK_IMPORTED_MODULE_0__/* .string */ .YjP().url().optional(),
            // Claims of GitHub's token; repository_id is numeric (it survives renames), the rest exact strings.
            allow: zod__WEBPACK_IMPORTED_MODULE_0__/* .array */ .YOg(zod__WEBPACK_IMPORTED_MODULE_0__/* .strictObject */ .rej({
                repository: zod__WEBPACK_IMPORTED_MODULE_0__/* .string */ .YjP()
                    .regex(/^[^/\s]+\/[^/\s]+$/, 'owner/name')
                    .optional(),
                repository_id: zod__WEBPACK_IMPORTED_MODULE_0__/* .union */ .KCZ([zod__WEBPACK_IMPORTED_MODULE_0__/* .number */ .aig().int().positive(), zod__WEBPACK_IMPORTED_MODULE_0__/* .string */ .YjP().regex(/^\d+$/)]).optional(),
                repository_owner: zod__WEBPACK_IMPORTED_MODULE_0__/* .string */ .YjP().min(1).optional(),
                environment: zod__WEBPACK_IMPORTED_MODULE_0__/* .string */ .YjP().min(1).optional(),
                ref: zod__WEBPACK_IMPORTED_MODULE_0__/* .string */ .YjP().min(1).optional(),
                workflow_ref: zod__WEBPACK_IMPORTED_MODULE_0__/* .string */ .YjP().min(1).optional(),
                event_name: zod__WEBPACK_IMPORTED_MODULE_0__/* .string */ .YjP().min(1).optional(),
                scopes: zod__WEBPACK_IMPORTED_MODULE_0__/* .array */ .YOg(zod__WEBPACK_IMPORTED_MODULE_0__/* ["enum"] */ .k5n(['deploy', 'drain', 'read', 'worker']))
                    .min(1)
                    .optional(),
            }))
                .min(1),
        })
            .optional(),
    })
        .optional(),
    github: zod__WEBPACK_IMPORTED_MODULE_0__/* .strictObject */ .rej({
        apiUrl: zod__WEBPACK_IMPORTED_MODULE_0__/* .string */ .YjP().url().optional(),
        app: zod__WEBPACK_IMPORTED_MODULE_0__/* .strictObject */ .rej({ id: zod__WEBPACK_IMPORTED_MODULE_0__/* .number */ .aig().int().positive(), privateKeyFile: zod__WEBPACK_IMPORTED_MODULE_0__/* .string */ .YjP().min(1) }).optional(),
    })
        .optional(),
});


/***/ }),

/***/ 18950:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   GN: () => (/* binding */ SettingsError),
/* harmony export */   Vm: () => (/* binding */ resolveAgentSettings),
/* harmony export */   z_: () => (/* binding */ parseBytes)
/* harmony export */ });
/* unused harmony export isLoopback */
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(73024);
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_fs__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var node_os__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(48161);
/* harmony import */ var node_os__WEBPACK_IMPORTED_MODULE_1___default = /*#__PURE__*/__webpack_require__.n(node_os__WEBPACK_IMPORTED_MODULE_1__);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(76760);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_2___default = /*#__PURE__*/__webpack_require__.n(node_path__WEBPACK_IMPORTED_MODULE_2__);
/* harmony import */ var _src_plan_index_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(91816);
/* harmony import */ var _load_js__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(49211);
// The agent's settings: defaults < config file < environment < flags, in one
// typed object. Nothing else reads flags or FLOTILLA_* variables.





class SettingsError extends Error {
    issues;
    constructor(issues) {
        super(issues.join('\n'));
        this.issues = issues;
    }
}
const ENV = {
    config: 'FLOTILLA_CONFIG',
    listen: 'FLOTILLA_LISTEN',
    dataDir: 'FLOTILLA_DATA_DIR',
    databaseUrl: 'FLOTILLA_DATABASE_URL',
    node: 'FLOTILLA_NODE',
    taskCap: 'FLOTILLA_TASK_CAP',
    leaseTtl: 'FLOTILLA_LEASE_TTL',
};
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|\[::1\]|localhost)$/;
function isLoopback(host) {
    return LOOPBACK.test(host);
}
async function resolveAgentSettings(flags, env = process.env, cwd = process.cwd()) {
    const pick = (k) => flags[k] ?? env[ENV[k]] ?? undefined;
    const problems = [];
    let file = {};
    let baseDir = cwd;
    const configPath = pick('config');
    if (configPath) {
        const loaded = await (0,_load_js__WEBPACK_IMPORTED_MODULE_4__/* .loadAgentConfigFile */ .O)((0,node_path__WEBPACK_IMPORTED_MODULE_2__.resolve)(cwd, configPath));
        if (!loaded.ok)
            throw new SettingsError(loaded.issues.map((i) => (0,_src_plan_index_js__WEBPACK_IMPORTED_MODULE_3__/* .formatIssue */ .Hd)(configPath, i)));
        file = loaded.config;
        baseDir = (0,node_path__WEBPACK_IMPORTED_MODULE_2__.dirname)((0,node_path__WEBPACK_IMPORTED_MODULE_2__.resolve)(cwd, configPath));
    }
    const listenText = pick('listen') ?? file.listen ?? '127.0.0.1:8420';
    const listen = parseListen(listenText);
    if (!listen)
        problems.push(`listen must be host:port (e.g. 127.0.0.1:8420), not "${listenText}"`);
    const capText = pick('taskCap') ?? (file.taskCap === undefined ? '5' : String(file.taskCap));
    if (!/^\d+$/.test(capText))
        problems.push(`task cap must be a whole number from 0, not "${capText}"`);
    const ttlText = pick('leaseTtl') ?? (file.leaseTtl === undefined ? '30s' : String(file.leaseTtl));
    const leaseTtlMs = /^\d+(\.\d+)?$/.test(ttlText) ? Number(ttlText) * 1000 : (0,_src_plan_index_js__WEBPACK_IMPORTED_MODULE_3__/* .durationMs */ .pc)(ttlText);
    if (!(leaseTtlMs >= 1000))
        problems.push(`leaseTtl must be a duration of at least 1s (e.g. 30s), not "${ttlText}"`);
    const node = pick('node') ?? file.node ?? (0,node_os__WEBPACK_IMPORTED_MODULE_1__.hostname)();
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(node))
        problems.push(`node name "${node}" may use letters, digits, ".", "_" and "-"`);
    // Paths from the config file are relative to it; paths from flags, to the working directory.
    const dataDirFlag = flags.dataDir ?? env.FLOTILLA_DATA_DIR;
    const dataDir = dataDirFlag ? (0,node_path__WEBPACK_IMPORTED_MODULE_2__.resolve)(cwd, dataDirFlag) : (0,node_path__WEBPACK_IMPORTED_MODULE_2__.resolve)(baseDir, file.dataDir ?? '.flotilla');
    const auth = {
        tokens: (file.auth?.tokens ?? []).map((t) => ({ name: t.name, sha256: t.sha256, scopes: t.scopes })),
        oidc: file.auth?.oidc && {
            ...file.auth.oidc,
            allow: file.auth.oidc.allow.map(({ repository_id, ...rule }) => ({
                ...rule,
                ...(repository_id === undefined ? {} : { repository_id: String(repository_id) }),
            })),
        },
    };
    const hasAuth = auth.tokens.length > 0 || file.auth?.oidc !== undefined;
    if (listen && !isLoopback(listen.host) && !hasAuth) {
        problems.push(`refusing to listen on ${listen.host}:${listen.port} without auth: anyone who reaches it could deploy. ` +
            'Configure auth.tokens or auth.oidc in the config file, or listen on 127.0.0.1.');
    }
    const packages = file.packages ?? {};
    const maxCacheBytes = parseBytes(packages.maxCacheBytes ?? '20GB');
    const maxPackageBytes = parseBytes(packages.maxPackageBytes ?? '4GB');
    let app;
    if (file.github?.app) {
        const keyFile = (0,node_path__WEBPACK_IMPORTED_MODULE_2__.resolve)(baseDir, file.github.app.privateKeyFile);
        try {
            app = { id: file.github.app.id, privateKey: (0,node_fs__WEBPACK_IMPORTED_MODULE_0__.readFileSync)(keyFile, 'utf8') };
        }
        catch (err) {
            problems.push(`github.app.privateKeyFile ${keyFile} cannot be read: ${err.message}`);
        }
    }
    const checkIntervalMs = Number(env.FLOTILLA_CHECK_RUN_INTERVAL_MS ?? 10_000);
    if (!(checkIntervalMs >= 0))
        problems.push(`FLOTILLA_CHECK_RUN_INTERVAL_MS must be milliseconds, not "${env.FLOTILLA_CHECK_RUN_INTERVAL_MS}"`);
    if (problems.length)
        throw new SettingsError(problems);
    return {
        node,
        listen: listen,
        dataDir,
        databaseUrl: pick('databaseUrl') ?? file.databaseUrl,
        taskCap: Number(capText),
        leaseTtlMs,
        retryBackoffMs: Number(env.FLOTILLA_RETRY_BACKOFF_MS ?? 1000),
        killGraceMs: Number(env.FLOTILLA_KILL_GRACE_MS ?? 10_000),
        idleTimeoutMs: Number(env.FLOTILLA_IDLE_TIMEOUT_MS ?? 60_000),
        worker: {
            pools: file.worker?.pools ?? ['default'],
            ...(file.worker?.maxActions ? { maxActions: file.worker.maxActions } : {}),
            targets: (0,_load_js__WEBPACK_IMPORTED_MODULE_4__/* .inventoryOf */ .o)({ ...file, dataDir }, baseDir),
        },
        packages: {
            dir: packages.cacheDir ? (0,node_path__WEBPACK_IMPORTED_MODULE_2__.resolve)(baseDir, packages.cacheDir) : (0,node_path__WEBPACK_IMPORTED_MODULE_2__.join)(dataDir, 'packages'),
            maxCacheBytes,
            maxPackageBytes,
            allowedHosts: packages.allowedHosts ?? [],
            attempts: 4,
            backoffMs: Number(env.FLOTILLA_RETRY_BACKOFF_MS ?? 1000),
            stallTimeoutMs: Number(env.FLOTILLA_PACKAGE_STALL_MS ?? 30_000),
        },
        auth,
        github: { apiUrl: file.github?.apiUrl ?? 'https://api.github.com', app, checkIntervalMs },
    };
}
function parseListen(text) {
    const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(text.trim());
    if (!m)
        return null;
    const port = Number(m[2]);
    if (port > 65535)
        return null;
    return { host: m[1].replace(/^\[|\]$/g, ''), port };
}
const UNITS = {
    b: 1,
    kb: 1e3,
    mb: 1e6,
    gb: 1e9,
    tb: 1e12,
    kib: 1024,
    mib: 1024 ** 2,
    gib: 1024 ** 3,
    tib: 1024 ** 4,
};
/** A size as the config schema accepts it: bytes, or like 500MB, 20GB, 2GiB. */
function parseBytes(size) {
    if (typeof size === 'number')
        return size;
    const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(size.trim());
    return Math.floor(Number(m[1]) * (UNITS[(m[2] || 'b').toLowerCase()] ?? 1));
}


/***/ }),

/***/ 66468:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   Y: () => (/* binding */ AgentError)
/* harmony export */ });
class AgentError extends Error {
    status;
    code;
    issues;
    constructor(status, code, message, issues = []) {
        super(message);
        this.status = status;
        this.code = code;
        this.issues = issues;
    }
}


/***/ }),

/***/ 91816:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  Lb: () => (/* reexport */ checkInventory),
  pc: () => (/* reexport */ durationMs),
  Ud: () => (/* reexport */ expandActions),
  IQ: () => (/* reexport */ expandDeployment),
  Hd: () => (/* reexport */ formatIssue),
  GW: () => (/* reexport */ interpolate),
  w$: () => (/* reexport */ loadPlanFile),
  iH: () => (/* reexport */ source_parsePlanSource),
  tl: () => (/* reexport */ parseScript),
  K7: () => (/* reexport */ readDocumentFile),
  rb: () => (/* reexport */ toPointer),
  T$: () => (/* reexport */ validatePlanValue),
  mZ: () => (/* reexport */ zodIssues)
});

// UNUSED EXPORTS: DEFAULTS, InterpolationError, MAX_PLAN_BYTES, loadPlan, normalizePlan, parseTemplate, planSchema, resolveName, targetsFor, templateRefs

;// CONCATENATED MODULE: ./src/plan/interpolate.ts
// `#{name}` interpolation. `${\u2026}` is left alone on purpose: it belongs to
// shells and GitHub expressions. `##{` escapes a literal `#{`, as in Octopus.
// An unterminated `#{` is literal text, so shell code like `echo "#{"` is safe.
const REF = /##\{|#\{([^{}\n]*)\}/g;
function parseTemplate(text) {
    const parts = [];
    let last = 0;
    for (const m of text.matchAll(REF)) {
        const before = text.slice(last, m.index);
        if (m[0] === '##{') {
            parts.push(`${before}#{`);
        }
        else {
            if (before)
                parts.push(before);
            parts.push({ name: (m[1] ?? '').trim(), offset: m.index });
        }
        last = m.index + m[0].length;
    }
    if (last < text.length)
        parts.push(text.slice(last));
    return parts;
}
function templateRefs(text) {
    return parseTemplate(text).filter((p) => typeof p !== 'string');
}
/** Resolves one name, or returns why it cannot be resolved in this scope. */
function resolveName(name, scope) {
    switch (name) {
        case 'project':
            return { value: scope.project };
        case 'environment':
            return { value: scope.environment };
        case 'release':
            return { value: scope.release };
        case 'tenant':
            return scope.tenant
                ? { value: scope.tenant.name }
                : { error: 'no tenant here (the plan is untenanted)' };
        case 'target':
            return scope.target
                ? { value: scope.target.name }
                : { error: 'no target here (only steps on targets have one)' };
        case 'target.host':
            return scope.target
                ? { value: scope.target.host }
                : { error: 'no target here (only steps on targets have one)' };
    }
    if (name.startsWith('tenant.tags.')) {
        const tag = name.slice('tenant.tags.'.length);
        if (!scope.tenant)
            return { error: 'no tenant here (the plan is untenanted)' };
        const value = scope.tenant.tags[tag];
        return value === undefined ? { error: `tenant ${scope.tenant.name} has no tag ${tag}` } : { value };
    }
    if (name.startsWith('var.')) {
        const v = name.slice('var.'.length);
        const value = scope.variables[v];
        return value === undefined ? { error: `variable ${v} is not defined` } : { value };
    }
    return {
        error: 'unknown name; use tenant, tenant.tags.X, project, environment, release, target, target.host or var.NAME',
    };
}
class InterpolationError extends Error {
}
function interpolate(text, scope) {
    // Most scripts have no reference, and every action's script comes here.
    if (!text.includes('#{'))
        return text;
    let out = '';
    for (const part of parseTemplate(text)) {
        if (typeof part === 'string') {
            out += part;
            continue;
        }
        const r = resolveName(part.name, scope);
        if ('error' in r)
            throw new InterpolationError(`#{${part.name}}: ${r.error}`);
        out += r.value;
    }
    return out;
}

;// CONCATENATED MODULE: ./src/plan/expand.ts
// Expansion: a plan becomes one task per tenant, and each task's steps become
// actions over the target inventory.

const SAFE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
function expandDeployment(plan, opts = {}) {
    const issues = [];
    const environment = opts.environment ?? plan.environment;
    const release = opts.release ?? plan.release ?? opts.defaultRelease;
    if (!environment)
        issues.push({ path: '/environment', message: 'no environment: set it in the plan or pass one' });
    else if (!SAFE.test(environment))
        issues.push({ path: '/environment', message: `environment ${environment} is not a safe name` });
    if (!release)
        issues.push({ path: '/release', message: 'no release: set it in the plan or pass one' });
    else if (!SAFE.test(release))
        issues.push({ path: '/release', message: `release ${release} is not a safe name` });
    let tenants = plan.tenants ?? [null];
    if (opts.tenants && opts.tenants.length > 0) {
        if (!plan.tenants) {
            issues.push({ path: '/tenants', message: 'the plan is untenanted; no tenants can be chosen' });
        }
        else {
            const byName = new Map(plan.tenants.map((t) => [t.name, t]));
            const unknown = opts.tenants.filter((n) => !byName.has(n));
            if (unknown.length)
                issues.push({ path: '/tenants', message: `not tenants of this plan: ${unknown.join(', ')}` });
            const wanted = new Set(opts.tenants);
            tenants = plan.tenants.filter((t) => wanted.has(t.name));
        }
    }
    if (issues.length > 0 || !environment || !release)
        return { ok: false, issues };
    const tasks = tenants.map((tenant) => {
        const variables = { ...plan.variables, ...tenant?.variables };
        const scope = { project: plan.project, environment, release, variables };
        if (tenant)
            scope.tenant = tenant;
        return { tenant, concurrencyTag: interpolate(plan.concurrency.tag, scope), variables };
    });
    return { ok: true, value: { project: plan.project, environment, release, tasks } };
}
// A target's tenants as a set, made once per list: every task asks targets
// whether they serve its tenant, and scanning the list each time made the
// check of a deployment to 5,000 tenants over 200 targets of 1,000 tenants
// each take 7 s on the agent's event loop (6-18 ms with checkInventory's
// role filter once per step).
const tenantSets = new WeakMap();
function serves(target, tenant) {
    if (target.tenants === undefined)
        return true;
    if (tenant === null)
        return false;
    let set = tenantSets.get(target.tenants);
    if (!set) {
        set = new Set(target.tenants);
        tenantSets.set(target.tenants, set);
    }
    return set.has(tenant);
}
function hasRole(step, target) {
    return target.roles.some((r) => step.roles.includes(r));
}
// Made once per inventory (the registry keeps one array until a worker
// registers): every task looks up its tenant's targets, and filtering the
// whole inventory for each took 4% of the agent's CPU with 100 targets.
const tenantIndexes = new WeakMap();
function tenantIndexOf(inventory) {
    let index = tenantIndexes.get(inventory);
    if (index)
        return index;
    index = { everyone: [], byTenant: new Map() };
    for (const [i, t] of inventory.entries()) {
        if (t.tenants === undefined)
            index.everyone.push(i);
        else
            for (const name of new Set(t.tenants)) {
                const own = index.byTenant.get(name);
                if (own)
                    own.push(i);
                else
                    index.byTenant.set(name, [i]);
            }
    }
    tenantIndexes.set(inventory, index);
    return index;
}
/** The targets serving one tenant (`null`: an untenanted deployment), in inventory order. */
function servingTargets(inventory, tenant) {
    const { everyone, byTenant } = tenantIndexOf(inventory);
    const own = tenant === null ? [] : (byTenant.get(tenant) ?? []);
    const out = [];
    let a = 0;
    let b = 0;
    while (a < everyone.length || b < own.length) {
        const next = b >= own.length || (a < everyone.length && everyone[a] < own[b]) ? everyone[a++] : own[b++];
        out.push(inventory[next]);
    }
    return out;
}
/** Targets of a step for one tenant: any matching role, and serving that tenant. */
function targetsFor(step, tenant, inventory) {
    if (step.on !== 'targets')
        return [];
    return servingTargets(inventory, tenant).filter((t) => hasRole(step, t));
}
function noTarget(step, i, tenant) {
    return {
        path: `/steps/${i}/targets/roles`,
        message: `no target has role ${step.roles.join(' or ')}${tenant ? ` and serves tenant ${tenant}` : ' and takes untenanted deployments'}`,
    };
}
/** The actions of every step of one task, or an issue per step that matches no target. */
function expandActions(plan, tenant, inventory) {
    const issues = [];
    const steps = plan.steps.map((step, i) => {
        if (step.on === 'worker')
            return [{ step, pool: step.pool }];
        const targets = targetsFor(step, tenant, inventory);
        if (targets.length === 0)
            issues.push(noTarget(step, i, tenant));
        return targets.map((target) => ({ step, target }));
    });
    return issues.length ? { ok: false, issues } : { ok: true, value: steps };
}
/** Checks every task of a deployment against an inventory; one issue per distinct problem. */
function checkInventory(plan, spec, inventory) {
    const byPath = new Map();
    // Roles do not depend on the tenant: each step's targets by role are found
    // once, and a task needs only one of them that serves its tenant.
    const byRole = plan.steps.map((step) => step.on === 'targets' ? inventory.filter((t) => hasRole(step, t)) : []);
    for (const task of spec.tasks) {
        const tenant = task.tenant?.name ?? null;
        const issues = plan.steps.flatMap((step, i) => step.on === 'targets' && !byRole[i].some((t) => serves(t, tenant)) ? [noTarget(step, i, tenant)] : []);
        for (const issue of issues) {
            const key = `${issue.path}\0${issue.message.replace(/ and serves tenant .*$/, '')}`;
            const entry = byPath.get(key) ?? { issue, tenants: [] };
            if (task.tenant)
                entry.tenants.push(task.tenant.name);
            byPath.set(key, entry);
        }
    }
    return [...byPath.values()].map(({ issue, tenants }) => tenants.length > 1
        ? {
            ...issue,
            message: `${issue.message.replace(/ and serves tenant .*$/, '')} and serves tenants ${tenants.slice(0, 5).join(', ')}${tenants.length > 5 ? ` and ${tenants.length - 5} more` : ''}`,
        }
        : issue);
}

// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __webpack_require__(51455);
;// CONCATENATED MODULE: ./src/plan/check.ts
// Rules that span fields and so cannot live in the zod schema: unique names,
// references between steps and packages, and the names used in `#{\u2026}`.

function checkPlan(input, plan) {
    const issues = [];
    const add = (path, message) => issues.push({ path, message });
    for (const i of firstDuplicates(plan.tenants?.map((t) => t.name) ?? [])) {
        add(['tenants', i], `tenant ${plan.tenants?.[i]?.name} is listed more than once`);
    }
    for (const i of firstDuplicates(plan.steps.map((s) => s.name))) {
        add(['steps', i, 'name'], `step name ${plan.steps[i]?.name} is used by an earlier step`);
    }
    input.steps.forEach((s, i) => {
        const at = (...p) => ['steps', i, ...p];
        if (s.run !== undefined && s.deploy !== undefined)
            add(at(), 'a step has either run or deploy, not both');
        if (s.run === undefined && s.deploy === undefined)
            add(at(), 'a step needs run (a script) or deploy (a package)');
        if (s.on === 'worker') {
            if (s.targets)
                add(at('targets'), 'a step with on: worker runs on a worker of its pool and takes no targets');
            if (s.deploy !== undefined)
                add(at('deploy'), 'deploy steps install on targets; they cannot run on: worker');
            if (s.window !== undefined)
                add(at('window'), 'window applies to steps on targets, not on: worker');
        }
        else {
            if (!s.targets)
                add(at(), 'a step needs targets: { roles: [...] }, or on: worker');
            if (s.pool !== undefined)
                add(at('pool'), 'pool applies only to steps with on: worker');
        }
        if (s.deploy !== undefined && !plan.packages[s.deploy]) {
            const known = Object.keys(plan.packages);
            add(at('deploy'), `package ${s.deploy} is not defined in packages${known.length ? ` (defined: ${known.join(', ')})` : ''}`);
        }
        if (s.keepReleases !== undefined && s.deploy === undefined)
            add(at('keepReleases'), 'keepReleases applies to deploy steps');
    });
    issues.push(...checkTemplates(plan, input));
    return issues;
}
function checkTemplates(plan, input) {
    const issues = [];
    const check = (text, path, opts) => {
        for (const ref of templateRefs(text)) {
            const problem = checkName(ref.name, plan, opts.target, opts.stepVars ?? {});
            if (problem)
                issues.push({ path, message: `#{${ref.name}}: ${problem}` });
        }
    };
    check(plan.concurrency.tag, input.concurrency?.tag !== undefined ? ['concurrency', 'tag'] : ['concurrency'], {
        target: false,
    });
    for (const [name, p] of Object.entries(plan.packages)) {
        if (p.source === 'url')
            check(p.url, ['packages', name, 'url'], { target: false });
    }
    plan.steps.forEach((s, i) => {
        if (s.kind === 'run' && 'inline' in s.script) {
            check(s.script.inline, ['steps', i, 'run'], { target: s.on === 'targets', stepVars: s.variables });
        }
    });
    return issues;
}
function checkName(name, plan, hasTarget, stepVars) {
    const tenants = plan.tenants;
    if (['project', 'environment', 'release'].includes(name))
        return null;
    if (name === 'tenant' || name.startsWith('tenant.')) {
        if (!tenants)
            return 'the plan has no tenants, so there is no tenant here';
        if (name === 'tenant')
            return null;
        if (!name.startsWith('tenant.tags.') || name.length === 'tenant.tags.'.length) {
            return 'unknown name; a tenant offers #{tenant} and #{tenant.tags.NAME}';
        }
        const tag = name.slice('tenant.tags.'.length);
        const lacking = tenants.filter((t) => t.tags[tag] === undefined).map((t) => t.name);
        return lacking.length ? `tenant tag ${tag} is not set on ${list(lacking)}` : null;
    }
    if (name === 'target' || name === 'target.host') {
        return hasTarget ? null : 'there is no target here; only scripts of steps on targets have one';
    }
    if (name.startsWith('var.') && name.length > 4) {
        const v = name.slice(4);
        if (plan.variables[v] !== undefined || stepVars[v] !== undefined)
            return null;
        const lacking = (tenants ?? []).filter((t) => t.variables[v] === undefined).map((t) => t.name);
        if (tenants && tenants.length > 0 && lacking.length === 0)
            return null;
        return tenants && lacking.length < tenants.length
            ? `variable ${v} is not defined for ${list(lacking)}`
            : `variable ${v} is not defined in variables`;
    }
    return 'unknown name; use tenant, tenant.tags.NAME, project, environment, release, target, target.host or var.NAME';
}
function list(names) {
    return names.length > 5
        ? `tenants ${names.slice(0, 5).join(', ')} and ${names.length - 5} more`
        : `tenant${names.length > 1 ? 's' : ''} ${names.join(', ')}`;
}
/** Indexes of entries equal to an earlier entry. */
function firstDuplicates(values) {
    const seen = new Set();
    const dups = [];
    values.forEach((v, i) => {
        if (seen.has(v))
            dups.push(i);
        seen.add(v);
    });
    return dups;
}

;// CONCATENATED MODULE: ./src/plan/issues.ts
function zodIssues(error, root) {
    return error.issues.flatMap((i) => fromZod(i, [], root));
}
function fromZod(issue, prefix, root) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
        return issue.keys.map((key) => ({ path: [...path, key], message: `unknown key ${key}` }));
    }
    if (issue.code === 'invalid_union') {
        // Report the branch whose type matched (an object for an object branch),
        // rather than zod's generic "Invalid input".
        const branches = issue.errors.filter((b) => !b.some((i) => i.code === 'invalid_type' && i.path.length === 0));
        const best = branches.sort((a, b) => a.length - b.length)[0];
        if (best)
            return best.flatMap((i) => fromZod(i, path, root));
        const expected = issue.errors.flatMap((b) => b.map((i) => (i.code === 'invalid_type' ? i.expected : null)));
        const names = [...new Set(expected.filter(Boolean))];
        return [{ path, message: `expected ${names.length ? names.join(' or ') : 'another form'}` }];
    }
    if (path.length === 0 && (root === null || root === undefined)) {
        return [{ path, message: 'the plan is empty' }];
    }
    // A missing field fails as the wrong type (or, for `version: 1`, the wrong
    // value); say it is missing instead.
    if ((issue.code === 'invalid_type' || issue.code === 'invalid_value') &&
        valueAt(root, path) === undefined) {
        return [{ path, message: `${String(path.at(-1) ?? 'value')} is required` }];
    }
    return [{ path, message: issue.message }];
}
function valueAt(root, path) {
    let v = root;
    for (const seg of path) {
        if (v === null || typeof v !== 'object')
            return undefined;
        v = v[seg];
    }
    return v;
}

;// CONCATENATED MODULE: ./src/plan/model.ts
const DEFAULTS = {
    maxParallelism: 10,
    acquireParallelism: 10,
    retries: 0,
    timeoutMs: 60 * 60 * 1000,
    keepReleases: 3,
    pool: 'default',
    tenantedTag: '#{tenant}/#{project}/#{environment}',
    untenantedTag: '#{project}/#{environment}',
};
// A single line naming a .sh/.bash file, with no spaces, is a script path;
// anything else is script text. `./deploy.sh` is a path, `bash deploy.sh` text.
const SCRIPT_PATH = /^[\w./-]+\.(?:sh|bash)$/;
function parseScript(run) {
    const trimmed = run.trim();
    return SCRIPT_PATH.test(trimmed) ? { path: trimmed } : { inline: run };
}
function durationMs(d) {
    if (typeof d === 'number')
        return Math.round(d * 1000);
    let ms = 0;
    for (const [, n, unit] of d.matchAll(/(\d+)(ms|h|m|s)/g)) {
        ms += Number(n) * { h: 3_600_000, m: 60_000, s: 1000, ms: 1 }[unit];
    }
    return ms;
}
function stringVars(vars) {
    const out = {};
    for (const [k, v] of Object.entries(vars ?? {}))
        out[k] = String(v);
    return out;
}
function maxFailures(v) {
    if (v === undefined)
        return { count: 0 };
    if (typeof v === 'number')
        return { count: v };
    return { percent: Number.parseFloat(v) };
}
function normalizeStep(s, maxParallelism) {
    const base = {
        name: s.name,
        window: s.window ?? maxParallelism,
        maxFailures: maxFailures(s.maxFailures),
        retries: s.retries ?? DEFAULTS.retries,
        timeoutMs: s.timeout === undefined ? DEFAULTS.timeoutMs : durationMs(s.timeout),
        continueOnError: s.continueOnError ?? false,
        variables: stringVars(s.variables),
    };
    if (s.deploy !== undefined) {
        return {
            ...base,
            kind: 'deploy',
            on: 'targets',
            roles: s.targets?.roles ?? [],
            package: s.deploy,
            keepReleases: s.keepReleases ?? DEFAULTS.keepReleases,
        };
    }
    const script = parseScript(s.run ?? '');
    if (s.on === 'worker')
        return { ...base, kind: 'run', on: 'worker', pool: s.pool ?? DEFAULTS.pool, script };
    return { ...base, kind: 'run', on: 'targets', roles: s.targets?.roles ?? [], script };
}
/** Applies defaults to a plan that passed planSchema and checkPlan. */
function normalizePlan(input) {
    const tenants = input.tenants?.map((t) => typeof t === 'string'
        ? { name: t, tags: {}, variables: {} }
        : { name: t.name, tags: { ...t.tags }, variables: stringVars(t.variables) }) ?? null;
    const maxParallelism = input.concurrency?.maxParallelism ?? DEFAULTS.maxParallelism;
    const packages = {};
    for (const [name, p] of Object.entries(input.packages ?? {})) {
        packages[name] =
            'url' in p
                ? { name, source: 'url', url: p.url, sha256: p.sha256, allowSymlinks: p.allowSymlinks ?? false }
                : {
                    name,
                    source: 'upload',
                    upload: p.upload,
                    sha256: p.sha256,
                    allowSymlinks: p.allowSymlinks ?? false,
                };
    }
    return {
        version: 1,
        project: input.project,
        environment: input.environment,
        release: input.release,
        tenants,
        concurrency: {
            tag: input.concurrency?.tag ?? (tenants ? DEFAULTS.tenantedTag : DEFAULTS.untenantedTag),
            maxParallelism,
            acquireParallelism: input.concurrency?.acquireParallelism ?? DEFAULTS.acquireParallelism,
            bypassTargetMutex: input.concurrency?.bypassTargetMutex ?? false,
            maxRunningTasks: input.concurrency?.maxRunningTasks ?? 0,
        },
        priority: input.priority ?? 'normal',
        supersede: input.supersede ?? false,
        onInterrupt: input.onInterrupt ?? 'fail',
        packages,
        variables: stringVars(input.variables),
        secrets: input.secrets ?? [],
        steps: input.steps.map((s) => normalizeStep(s, maxParallelism)),
    };
}

// EXTERNAL MODULE: ./node_modules/zod/v4/classic/schemas.js + 17 modules
var schemas = __webpack_require__(38816);
;// CONCATENATED MODULE: ./src/plan/schema.ts
// The plan's shape (version 1), as zod schemas. These schemas only validate;
// defaults and normalisation live in model.ts so that the published JSON
// Schema (plan.schema.json) describes exactly what a user may write.


// Names end up in directory paths (<root>/<tenant>/<project>/<release>) and in
// concurrency tags, so they are restricted to characters safe in both.
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const safeName = (what) => schemas/* string */.YjP()
    .max(100)
    .regex(SAFE_NAME, `${what} must start with a letter or digit and use only letters, digits, '.', '_' and '-'`);
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const variableName = schemas/* string */.YjP()
    .regex(VARIABLE_NAME, 'variable names are letters, digits and _, not starting with a digit');
const variableValue = schemas/* union */.KCZ([schemas/* string */.YjP(), schemas/* number */.aig(), schemas/* boolean */.zMY()]);
const variablesSchema = schemas/* record */.g1P(variableName, variableValue);
const DURATION = /^(?:\d+h)?(?:\d+m(?!s))?(?:\d+s)?(?:\d+ms)?$/;
// Timers take at most 2^31-1 ms (about 24.8 days): Node fires a longer one after
// 1 ms, which would kill every action at once. `0s` or 0.0001 would round to 0.
const MAX_DURATION_MS = 2 ** 31 - 1;
const durationInRange = (d) => {
    const ms = durationMs(d);
    return ms >= 1 && ms <= MAX_DURATION_MS;
};
const DURATION_FORM = 'a duration is like 90s, 2m, 1h30m or 500ms';
const DURATION_RANGE = 'a duration is between 1ms and 24 days';
// `abort` stops at the first failed check, so one bad value gets one message.
const duration = schemas/* union */.KCZ([
    schemas/* number */.aig()
        .positive({ error: DURATION_RANGE, abort: true })
        .refine(durationInRange, DURATION_RANGE)
        .describe('seconds'),
    schemas/* string */.YjP()
        .regex(DURATION, { error: DURATION_FORM, abort: true })
        .refine((s) => s !== '', { error: DURATION_FORM, abort: true })
        .refine(durationInRange, DURATION_RANGE),
]);
const percentOrCount = schemas/* union */.KCZ([
    schemas/* number */.aig().int().min(0),
    schemas/* string */.YjP()
        .regex(/^\d+(\.\d+)?%$/, 'maxFailures is a count or a percentage like "10%"')
        .refine((s) => Number.parseFloat(s) <= 100, 'maxFailures cannot be over 100%'),
]);
const tenantObject = schemas/* strictObject */.rej({
    name: safeName('a tenant name'),
    tags: schemas/* record */.g1P(schemas/* string */.YjP().regex(VARIABLE_NAME, 'tag names are letters, digits and _'), schemas/* string */.YjP())
        .optional(),
    variables: variablesSchema.optional(),
});
const tenantSchema = schemas/* union */.KCZ([safeName('a tenant name'), tenantObject]);
const sha256 = schemas/* string */.YjP().regex(/^[a-f0-9]{64}$/, 'sha256 is 64 lowercase hexadecimal characters');
const urlPackage = schemas/* strictObject */.rej({
    url: schemas/* string */.YjP().min(1).describe('http(s) URL; #{release}, #{project}, #{environment} may be used'),
    sha256,
    allowSymlinks: schemas/* boolean */.zMY().optional(),
});
const uploadPackage = schemas/* strictObject */.rej({
    upload: schemas/* string */.YjP().min(1).describe('path of a .tar/.tar.gz file the action uploads to the agent'),
    sha256: sha256.optional(),
    allowSymlinks: schemas/* boolean */.zMY().optional(),
});
const packageSchema = schemas/* union */.KCZ([urlPackage, uploadPackage]);
const roles = schemas/* array */.YOg(schemas/* string */.YjP().min(1)).min(1, 'roles needs at least one role');
const stepSchema = schemas/* strictObject */.rej({
    name: safeName('a step name'),
    run: schemas/* string */.YjP()
        .min(1, 'run is empty')
        .optional()
        .describe('bash script text, or a path to a script relative to the plan'),
    deploy: schemas/* string */.YjP().min(1).optional().describe('name of a package to install on each target'),
    on: schemas/* enum */.k5n(['worker', 'targets']).optional(),
    pool: safeName('a pool name').optional(),
    targets: schemas/* strictObject */.rej({ roles }).optional(),
    window: schemas/* number */.aig().int().min(1, 'window must be at least 1').optional(),
    maxFailures: percentOrCount.optional(),
    retries: schemas/* number */.aig().int().min(0, 'retries cannot be negative').max(10, 'retries is at most 10').optional(),
    timeout: duration.optional(),
    continueOnError: schemas/* boolean */.zMY().optional(),
    keepReleases: schemas/* number */.aig().int().min(1).max(100).optional(),
    variables: variablesSchema.optional(),
});
const concurrencySchema = schemas/* strictObject */.rej({
    tag: schemas/* string */.YjP().min(1).optional(),
    maxParallelism: schemas/* number */.aig().int().min(1, 'maxParallelism must be at least 1').optional(),
    acquireParallelism: schemas/* number */.aig().int().min(1, 'acquireParallelism must be at least 1').optional(),
    bypassTargetMutex: schemas/* boolean */.zMY().optional(),
    maxRunningTasks: schemas/* number */.aig().int().min(0, 'maxRunningTasks cannot be negative').optional(),
});
const planSchema = schemas/* strictObject */.rej({
    version: schemas/* literal */.euz(1, 'version must be 1'),
    project: safeName('project'),
    environment: safeName('environment').optional(),
    release: safeName('release').optional(),
    // An empty list would make a deployment of no tasks that succeeds doing nothing.
    tenants: schemas/* array */.YOg(tenantSchema)
        .min(1, 'tenants needs at least one tenant; leave tenants out for an untenanted plan')
        .max(10_000)
        .optional(),
    concurrency: concurrencySchema.optional(),
    priority: schemas/* enum */.k5n(['normal', 'high']).optional(),
    supersede: schemas/* boolean */.zMY().optional(),
    onInterrupt: schemas/* enum */.k5n(['fail', 'requeue']).optional(),
    packages: schemas/* record */.g1P(safeName('a package name'), packageSchema).optional(),
    variables: variablesSchema.optional(),
    secrets: schemas/* array */.YOg(variableName).optional(),
    steps: schemas/* array */.YOg(stepSchema).min(1, 'a plan needs at least one step').max(100),
});

// EXTERNAL MODULE: ./node_modules/yaml/dist/index.js
var dist = __webpack_require__(38815);
;// CONCATENATED MODULE: ./src/plan/source.ts
// Turns plan text (YAML or JSON) into a plain value, and JSON paths back into
// line and column. Guards against hostile documents: a size cap before any
// parsing, a cap on alias expansion (billion-laughs), and a nesting cap
// (deep documents would otherwise exhaust the stack of a recursive walker).

const MAX_PLAN_BYTES = 1024 * 1024;
const MAX_DEPTH = 64;
const MAX_ALIAS_COUNT = 100;
function toPointer(path) {
    return path.length === 0
        ? '/'
        : path.map((p) => `/${String(p).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}
function source_parsePlanSource(text) {
    const bytes = Buffer.byteLength(text);
    if (bytes > MAX_PLAN_BYTES) {
        return {
            ok: false,
            issues: [{ path: '/', message: `the plan is ${formatBytes(bytes)}; plans are limited to 1 MiB` }],
        };
    }
    // Flow-style nesting (`[[[[\u2026`) is checked before parsing, because the parser
    // itself recurses per level.
    const flowDepth = maxFlowDepth(text);
    if (flowDepth > MAX_DEPTH) {
        return { ok: false, issues: [{ path: '/', message: `the plan nests deeper than ${MAX_DEPTH} levels` }] };
    }
    return looksLikeJson(text) ? parseJson(text) : parseYaml(text);
}
function looksLikeJson(text) {
    return /^\s*\{/.test(text);
}
// JSON is read with JSON.parse (YAML's rules for tabs and escapes differ), and
// located through the YAML parser, which accepts nearly every JSON document.
function parseJson(text) {
    let value;
    try {
        value = JSON.parse(text);
    }
    catch (err) {
        const message = err.message;
        const at = /position (\d+)/.exec(message);
        const offset = at ? Number(at[1]) : unexpectedTokenOffset(text, message);
        const pos = offset === undefined ? undefined : linePos(text, offset);
        // V8 quotes the surrounding source (newlines included) in some messages;
        // an issue is one line, and the line and column already say where.
        const reason = message
            .replace(/ in JSON at position.*$/s, '')
            .replace(/^(Unexpected token '[\s\S]*?'), .* is not valid JSON$/s, '$1')
            .replace(/\s+/g, ' ');
        return { ok: false, issues: [{ path: '/', message: `invalid JSON: ${reason}`, ...pos }] };
    }
    const lineCounter = new dist/* LineCounter */.HN();
    const doc = (0,dist/* parseDocument */.Tp)(text, { lineCounter, uniqueKeys: false });
    if (doc.errors.length > 0)
        return { ok: true, value, locate: () => undefined };
    // JSON.parse keeps the last of two equal keys without a word; a JSON plan
    // refuses them as YAML does, or `"project"` twice would deploy the wrong one.
    const duplicates = duplicateKeys(doc, lineCounter);
    if (duplicates.length > 0)
        return { ok: false, issues: duplicates };
    return { ok: true, value, locate: (path) => position(doc.contents, lineCounter, path) };
}
function parseYaml(text) {
    const lineCounter = new dist/* LineCounter */.HN();
    let doc;
    try {
        // uniqueKeys compares every key with every other (30,000 keys took 7 s);
        // duplicateKeys below does the same check in one pass.
        doc = (0,dist/* parseDocument */.Tp)(text, { lineCounter, prettyErrors: true, uniqueKeys: false, strict: true });
    }
    catch (err) {
        return {
            ok: false,
            issues: [{ path: '/', message: `the plan could not be parsed: ${err.message}` }],
        };
    }
    if (doc.errors.length > 0) {
        return {
            ok: false,
            issues: doc.errors.map((e) => ({
                path: '/',
                message: e.code === 'MULTIPLE_DOCS'
                    ? 'a plan is one YAML document; remove the second --- and what follows it'
                    : // The parser turns its own stack overflow on deep block nesting into an error.
                        /Maximum call stack/.test(e.message)
                            ? `the plan nests deeper than ${MAX_DEPTH} levels`
                            : (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, ''),
                line: e.linePos?.[0].line,
                column: e.linePos?.[0].col,
            })),
        };
    }
    const depth = nodeDepth(doc.contents, 0);
    if (depth > MAX_DEPTH) {
        return { ok: false, issues: [{ path: '/', message: `the plan nests deeper than ${MAX_DEPTH} levels` }] };
    }
    const duplicates = duplicateKeys(doc, lineCounter);
    if (duplicates.length > 0)
        return { ok: false, issues: duplicates };
    const comments = interpolationComments(doc, text, lineCounter);
    if (comments.length > 0)
        return { ok: false, issues: comments };
    let value;
    try {
        value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    }
    catch (err) {
        const message = err.message;
        return {
            ok: false,
            issues: [
                {
                    path: '/',
                    message: /alias/i.test(message)
                        ? `the plan expands too many aliases (more than ${MAX_ALIAS_COUNT}); write the values out`
                        : `the plan could not be read: ${message}`,
                },
            ],
        };
    }
    return { ok: true, value, locate: (path) => position(doc.contents, lineCounter, path) };
}
function duplicateKeys(doc, lineCounter) {
    const issues = [];
    (0,dist/* visit */.YR)(doc, {
        Map(_key, map, ancestors) {
            const seen = new Set();
            for (const pair of map.items) {
                if (!(0,dist/* isScalar */.jn)(pair.key))
                    continue;
                const name = String(pair.key.value);
                if (seen.has(name)) {
                    const pos = pair.key.range ? lineCounter.linePos(pair.key.range[0]) : undefined;
                    issues.push({
                        path: toPointer([...pathOf(ancestors, map), name]),
                        message: `key ${name} appears more than once`,
                        ...(pos ? { line: pos.line, column: pos.col } : {}),
                    });
                }
                seen.add(name);
            }
        },
    });
    return issues;
}
// In a plain (unquoted) YAML value, ` #` starts a comment, so `run: echo #{tenant}`
// silently means `run: echo`. A comment that begins with `{` right after a
// value is such a lost `#{\u2026}`: refuse it rather than deploy a truncated command.
function interpolationComments(doc, text, lineCounter) {
    const issues = [];
    (0,dist/* visit */.YR)(doc, {
        Scalar(_key, node, ancestors) {
            if (!node.comment?.startsWith('{') || !node.range)
                return;
            const [start, valueEnd, end] = node.range;
            const at = text.indexOf('#{', valueEnd);
            const pos = lineCounter.linePos(at >= 0 && at < end ? at : start);
            const ref = `#${node.comment.split(/\s/)[0]}`;
            issues.push({
                path: toPointer(pathOf(ancestors, node)),
                message: `YAML reads ${ref} here as a comment, so it is not part of the value; put the value in quotes`,
                line: pos.line,
                column: pos.col,
            });
        },
    });
    return issues;
}
/** The JSON path of a node from the ancestors `visit` passes. */
function pathOf(ancestors, node) {
    const chain = [...ancestors, node];
    const path = [];
    for (let i = 0; i < chain.length - 1; i++) {
        const parent = chain[i];
        const child = chain[i + 1];
        if ((0,dist/* isPair */.tO)(parent) && parent.value === child) {
            path.push((0,dist/* isScalar */.jn)(parent.key) ? String(parent.key.value) : String(parent.key));
        }
        else if ((0,dist/* isSeq */.oP)(parent)) {
            path.push(parent.items.indexOf(child));
        }
    }
    return path;
}
// Some V8 messages ("Unexpected token ']', \u2026") carry no position. Prefixes of
// the text before the bad character fail only for ending early, so the
// shortest prefix that fails with the same message ends at that character.
function unexpectedTokenOffset(text, message) {
    const head = /^Unexpected token '[\s\S]*?'/.exec(message)?.[0];
    if (!head)
        return undefined;
    const failsSame = (n) => {
        try {
            JSON.parse(text.slice(0, n));
            return false;
        }
        catch (err) {
            return err.message.startsWith(head);
        }
    };
    let lo = 1;
    let hi = text.length;
    while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (failsSame(mid))
            hi = mid;
        else
            lo = mid + 1;
    }
    return failsSame(lo) ? lo - 1 : undefined;
}
function position(root, lineCounter, path) {
    const offset = offsetOf(root, path);
    if (offset === undefined)
        return undefined;
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
}
function linePos(text, offset) {
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    return { line, column: offset - before.lastIndexOf('\n') };
}
/** The offset of the deepest node on `path`; a key's own position for map entries. */
function offsetOf(root, path) {
    let node = root;
    let best = root?.range?.[0];
    for (const seg of path) {
        if ((0,dist/* isMap */.jh)(node)) {
            const pair = node.items.find((p) => (0,dist/* isScalar */.jn)(p.key) && String(p.key.value) === String(seg));
            if (!pair)
                break;
            const keyRange = pair.key.range;
            if (keyRange)
                best = keyRange[0];
            node = pair.value;
        }
        else if ((0,dist/* isSeq */.oP)(node)) {
            const item = node.items[Number(seg)];
            if (item === undefined)
                break;
            node = (0,dist/* isPair */.tO)(item) ? item.value : item;
            const r = node?.range;
            if (r)
                best = r[0];
        }
        else {
            break;
        }
    }
    return best;
}
function nodeDepth(node, depth) {
    if (depth > MAX_DEPTH)
        return depth;
    if ((0,dist/* isMap */.jh)(node) || (0,dist/* isSeq */.oP)(node)) {
        let max = depth + 1;
        for (const item of node.items) {
            const child = (0,dist/* isPair */.tO)(item) ? item.value : item;
            max = Math.max(max, nodeDepth(child, depth + 1));
            if (max > MAX_DEPTH)
                break;
        }
        return max;
    }
    return depth;
}
// Counted on the YAML lexer's tokens (iterative, and JSON is YAML here), so
// brackets inside strings, scripts and comments do not count.
function maxFlowDepth(text) {
    let opening = 0;
    for (let i = 0; i < text.length && opening <= MAX_DEPTH; i++) {
        const c = text.charCodeAt(i);
        if (c === 0x5b || c === 0x7b)
            opening++;
    }
    if (opening <= MAX_DEPTH)
        return opening; // too few brackets to nest too deep: skip lexing
    let depth = 0;
    let max = 0;
    for (const token of new dist/* Lexer */.JG().lex(text)) {
        if (token === '[' || token === '{') {
            depth++;
            if (depth > max)
                max = depth;
            if (max > MAX_DEPTH)
                break;
        }
        else if ((token === ']' || token === '}') && depth > 0) {
            depth--;
        }
    }
    return max;
}
function formatBytes(n) {
    if (n < 1024)
        return `${n} B`;
    if (n < 1024 * 1024)
        return `${(n / 1024).toFixed(1)} KiB`;
    if (n < 1024 ** 3)
        return `${(n / 1024 / 1024).toFixed(1)} MiB`;
    return `${(n / 1024 ** 3).toFixed(1)} GiB`;
}

;// CONCATENATED MODULE: ./src/plan/load.ts
// Plan text in, a normalised plan or every problem out. Each problem carries
// its JSON pointer and, where the source has one, its line and column.





function loadPlan(text) {
    const source = parsePlanSource(text);
    if (!source.ok)
        return source;
    return validatePlanValue(source.value, source.locate);
}
/** Validates an already-parsed plan (a JSON body, say); locate adds positions when known. */
function validatePlanValue(value, locate = () => undefined) {
    const parsed = planSchema.safeParse(value);
    const raw = parsed.success ? [] : zodIssues(parsed.error, value);
    let plan;
    if (parsed.success) {
        plan = normalizePlan(parsed.data);
        raw.push(...checkPlan(parsed.data, plan));
    }
    if (raw.length === 0 && plan)
        return { ok: true, plan };
    return {
        ok: false,
        issues: raw.map((i) => ({ path: toPointer(i.path), message: i.message, ...locate(i.path) })),
    };
}

;// CONCATENATED MODULE: ./src/plan/file.ts
// Reading a plan (or any YAML/JSON document) from disk without trusting it: the
// size is checked before the file is read, so a 50 MB document costs nothing.



async function readDocumentFile(path, what = 'plan') {
    const fail = (message) => ({ ok: false, issues: [{ path: '/', message }] });
    try {
        const info = await (0,promises_.stat)(path);
        if (!info.isFile())
            return fail(`${path} is not a file`);
        if (info.size > MAX_PLAN_BYTES)
            return fail(`the ${what} is ${formatBytes(info.size)}; the limit is 1 MiB`);
        return source_parsePlanSource(await (0,promises_.readFile)(path, 'utf8'));
    }
    catch (err) {
        const code = err.code;
        if (code === 'ENOENT')
            return fail(`${what} file ${path} does not exist`);
        if (code === 'EACCES')
            return fail(`${what} file ${path} cannot be read (permission denied)`);
        return fail(`${what} file ${path} cannot be read: ${err.message}`);
    }
}
async function loadPlanFile(path) {
    const source = await readDocumentFile(path);
    return source.ok ? validatePlanValue(source.value, source.locate) : source;
}
/** `file:line:column: /path: message`, the form editors and GitHub annotations understand. */
function formatIssue(file, issue) {
    const where = issue.line ? `${file}:${issue.line}:${issue.column ?? 1}` : file;
    return `${where}: ${issue.path}: ${issue.message}`;
}

;// CONCATENATED MODULE: ./src/plan/index.ts










/***/ }),

/***/ 8330:
/***/ ((module) => {

module.exports = {"rE":"0.1.0"};

/***/ })

};
