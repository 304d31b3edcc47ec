import { createRequire as __WEBPACK_EXTERNAL_createRequire } from "module";
var __webpack_exports__ = {};

;// CONCATENATED MODULE: external "node:fs"
const external_node_fs_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:fs");
;// CONCATENATED MODULE: external "node:fs/promises"
const promises_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:fs/promises");
;// CONCATENATED MODULE: external "node:path"
const external_node_path_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:path");
;// CONCATENATED MODULE: external "node:child_process"
const external_node_child_process_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:child_process");
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

;// CONCATENATED MODULE: ./runner-agent/src/worker/process.ts
// Runs one action's bash script as a child process in its own process group,
// so a timeout or a cancellation reaches everything the script started
// (SIGTERM to the group, then SIGKILL after a grace period).


const MAX_LINE = 16 * 1024;
/**
 * This process's environment, read once: process.env answers each variable
 * through a call into the runtime, and every script starts from all of them.
 * Only the executor runs scripts, and nothing changes its environment.
 */
const baseEnv = { ...process.env };
function runScript(run) {
    return new Promise((resolve) => {
        if (run.signal.aborted) {
            resolve({ exitCode: null, reason: 'cancelled', message: 'cancelled before it started' });
            return;
        }
        // The same shell options as GitHub's `shell: bash`: fail on the first error, in pipes too.
        const child = (0,external_node_child_process_namespaceObject.spawn)('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', run.script], {
            cwd: run.cwd,
            env: { ...baseEnv, ...run.env },
            detached: true,
            stdio: ['ignore', 'pipe', 'pipe'],
        });
        let ended = null;
        let killTimer;
        const killGroup = (sig) => {
            try {
                if (child.pid)
                    process.kill(-child.pid, sig);
            }
            catch { }
        };
        const stop = (why) => {
            if (ended)
                return;
            ended = why;
            killGroup('SIGTERM');
            killTimer = setTimeout(() => killGroup('SIGKILL'), run.killGraceMs);
            killTimer.unref();
        };
        const timeout = setTimeout(() => stop('timed out'), run.timeoutMs);
        const onAbort = () => stop('cancelled');
        run.signal.addEventListener('abort', onAbort, { once: true });
        splitLines(child.stdout, (l) => run.onLine('stdout', l));
        splitLines(child.stderr, (l) => run.onLine('stderr', l));
        const finish = (result) => {
            clearTimeout(timeout);
            run.signal.removeEventListener('abort', onAbort);
            if (killTimer)
                clearTimeout(killTimer);
            resolve(result);
        };
        child.on('error', (err) => finish({ exitCode: null, reason: 'spawn failed', message: `could not start bash: ${err.message}` }));
        // Processes the script left in the background die with it; otherwise they
        // would hold the output pipes open and the action would never end.
        child.on('exit', () => killGroup('SIGKILL'));
        child.on('close', (code, sig) => {
            if (ended === 'timed out') {
                finish({
                    exitCode: code,
                    reason: 'timed out',
                    message: `timed out after ${formatMs(run.timeoutMs)}`,
                });
            }
            else if (ended === 'cancelled') {
                finish({ exitCode: code, reason: 'cancelled', message: 'cancelled' });
            }
            else {
                finish({
                    exitCode: code,
                    reason: 'exited',
                    message: code === 0 ? 'exit code 0' : sig ? `killed by ${sig}` : `exit code ${code}`,
                });
            }
        });
    });
}
function splitLines(stream, onLine) {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        // A line without newline is cut, so one runaway line cannot grow without bound.
        while (partial.length > MAX_LINE) {
            parts.push(partial.slice(0, MAX_LINE));
            partial = partial.slice(MAX_LINE);
        }
        for (const p of parts)
            onLine(p.replace(/\r$/, ''));
    });
    stream.on('end', () => {
        if (partial)
            onLine(partial);
    });
}

;// CONCATENATED MODULE: ./runner-agent/src/worker/spawner.ts
// The executor: a small child process of the agent that starts action scripts.
// Starting a process copies the parent's page tables, so a fork from the
// agent (with its heap, store and server) costs several times more than one
// from this process, and would stall the agent's event loop; here it runs on
// another core. It imports nothing but node:* modules and process.ts.
//
// Protocol (IPC messages, each an array of these, sent once per turn of the
// sender's event loop): in  { op: 'run', id, run: ScriptRunSpec } | { op: 'cancel', id }
//                       out { op: 'line', id, stream, line } | { op: 'done', id, result }




if (process.send) {
    const send = process.send.bind(process);
    // Scripts that end (or print) in one turn of the loop are told in one
    // message: each message wakes the agent.
    let outbox = [];
    const post = (msg) => {
        if (outbox.length === 0)
            setImmediate(() => {
                const batch = outbox;
                outbox = [];
                // After the agent is gone there is no one to tell (see 'disconnect').
                if (process.connected)
                    send(batch);
            });
        outbox.push(msg);
    };
    const running = new Map();
    const handle = (msg) => {
        if (msg.op === 'cancel') {
            running.get(msg.id)?.abort();
            return;
        }
        const abort = new AbortController();
        running.set(msg.id, abort);
        const onLine = (stream, line) => post({ op: 'line', id: msg.id, stream, line });
        void run(msg.run, abort.signal, onLine).then((result) => {
            running.delete(msg.id);
            post({ op: 'done', id: msg.id, result });
        });
    };
    process.on('message', (batch) => {
        for (const msg of batch)
            handle(msg);
    });
    // The agent is gone (even by kill -9): nothing may keep running in its name.
    // Aborting stops every script (SIGTERM, then SIGKILL); this process exits
    // when the last one has.
    process.on('disconnect', () => {
        for (const abort of running.values())
            abort.abort();
        for (const dir of [...spares.values()].flat())
            (0,external_node_fs_namespaceObject.rmSync)(dir, { recursive: true, force: true });
    });
}
// Scratch directories are reused. Making a directory costs the file system a
// new inode and a journal entry (about 0.2 ms on ext4, on this event loop);
// finding one empty costs one read of it. A directory its script left empty,
// with its mode as made, serves a later action; any other is removed. The
// spares (by parent directory) are removed when this process is done.
const spares = new Map();
let madeMode;
let made = 0;
async function run(spec, signal, onLine) {
    let cwd;
    try {
        cwd = spec.scratch ? takeScratch(spec.cwd) : spec.cwd;
        if (!spec.scratch)
            await makeProjectDir(cwd);
    }
    catch (err) {
        return cannotMake(spec.cwd, err);
    }
    try {
        const result = await runScript({ ...spec, cwd, signal, onLine });
        // Bash could not start: perhaps in a directory removed since it was made.
        if (spec.scratch || result.reason !== 'spawn failed' || !madeDirs.delete(cwd))
            return result;
        try {
            await makeProjectDir(cwd);
        }
        catch (err) {
            return cannotMake(spec.cwd, err);
        }
        return await runScript({ ...spec, cwd, signal, onLine });
    }
    finally {
        if (spec.scratch)
            await giveBackScratch(cwd);
    }
}
function cannotMake(dir, err) {
    const message = `cannot create the working directory under ${dir}: ${err.message}`;
    return { exitCode: null, reason: 'spawn failed', message };
}
// Project directories this process made or found. A missing one is made off
// the event loop: right after mass deletions ext4 takes a millisecond or more
// to make one (it passes over recently freed inodes), and a first deployment
// of many tenants makes hundreds, which on this loop would hold back every
// other action's start and output. One that is there is found with one quick
// system call, without the thread pool's two wake-ups; once known, none.
const madeDirs = new Set();
async function makeProjectDir(dir) {
    if (madeDirs.has(dir))
        return;
    if (!(0,external_node_fs_namespaceObject.statSync)(dir, { throwIfNoEntry: false })?.isDirectory())
        await (0,promises_namespaceObject.mkdir)(dir, { recursive: true });
    madeDirs.add(dir);
}
function takeScratch(parent) {
    const spare = spares.get(parent)?.pop();
    if (spare)
        return spare;
    (0,external_node_fs_namespaceObject.mkdirSync)(parent, { recursive: true });
    const dir = (0,external_node_path_namespaceObject.join)(parent, `scratch-${process.pid}-${++made}`);
    (0,external_node_fs_namespaceObject.mkdirSync)(dir);
    madeMode ??= (0,external_node_fs_namespaceObject.statSync)(dir).mode;
    return dir;
}
async function giveBackScratch(dir) {
    try {
        if ((0,external_node_fs_namespaceObject.readdirSync)(dir).length === 0 && (0,external_node_fs_namespaceObject.statSync)(dir).mode === madeMode) {
            const parent = (0,external_node_path_namespaceObject.dirname)(dir);
            const list = spares.get(parent) ?? [];
            list.push(dir);
            spares.set(parent, list);
            return;
        }
    }
    catch { }
    // What the script left: the whole tree, off the event loop.
    await (0,promises_namespaceObject.rm)(dir, { recursive: true, force: true }).catch(() => { });
}

