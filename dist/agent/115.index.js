export const id = 115;
export const ids = [115];
export const modules = {

/***/ 74115:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  installRelease: () => (/* binding */ installRelease)
});

// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(77598);
// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __webpack_require__(51455);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(76760);
// EXTERNAL MODULE: ./runner-agent/src/packages/errors.ts
var errors = __webpack_require__(13281);
// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(73024);
// EXTERNAL MODULE: external "node:stream"
var external_node_stream_ = __webpack_require__(57075);
// EXTERNAL MODULE: external "node:zlib"
var external_node_zlib_ = __webpack_require__(38522);
// EXTERNAL MODULE: ./node_modules/tar/dist/esm/index.min.js
var index_min = __webpack_require__(98697);
;// CONCATENATED MODULE: ./runner-agent/src/packages/extract.ts
// Defensive extraction of a package archive (.tar or .tar.gz) with node-tar in
// strict mode. Every entry is checked before anything is written: only files
// and directories (and symlinks that stay inside the package, when the plan
// allows them), no absolute paths, no `..`, nothing written through a
// symlink, caps on entries, bytes, file size and depth. The first refusal
// stops the extraction; the caller extracts into a fresh directory and throws
// it away on failure, so a refused package leaves nothing behind.
// Decompression runs in node's zlib thread pool and files are written with
// asynchronous I/O, so the event loop keeps serving while a large package
// is extracted.






const DEFAULT_EXTRACT_LIMITS = {
    maxBytes: 16 * 1024 ** 3,
    maxEntries: 200_000,
    maxFileBytes: 8 * 1024 ** 3,
    maxDepth: 48,
};
const KINDS = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory']);
// A PAX record whose path or linkpath holds a NUL: node-tar would cut the
// value at the NUL, so the check looks at the raw extended header.
const PAX_NUL = /(?:^|\n)\d+ (?:path|linkpath)=[^\n]*\0/;
async function extractArchive(archive, dest, opts) {
    const limits = opts.limits ?? DEFAULT_EXTRACT_LIMITS;
    const gzip = await isGzip(archive);
    let entries = 0;
    let bytes = 0;
    let failure = null;
    const symlinks = new Set();
    // Directories that symlink targets pass through: a symlink created there later would redirect them.
    const walked = new Set();
    const source = (0,external_node_fs_.createReadStream)(archive, { highWaterMark: 1 << 20 });
    const gunzip = gzip ? (0,external_node_zlib_.createGunzip)({ chunkSize: 1 << 20 }) : null;
    // Tar blocks beyond the files' bytes: headers and padding. Anything past
    // this is a decompression bomb, even after the archive's end marker.
    const streamCap = limits.maxBytes + (limits.maxEntries + 2) * 1024 + (1 << 20);
    let streamed = 0;
    const counter = new external_node_stream_.Transform({
        transform(chunk, _enc, cb) {
            streamed += chunk.length;
            if (streamed > streamCap)
                return cb(new errors/* PackageError */.J('limit', `the archive expands to more than ${limits.maxBytes} bytes (decompression bomb?)`));
            cb(null, chunk);
        },
    });
    const refuse = (entry, why, code = 'unsafe_entry') => {
        fail(new errors/* PackageError */.J(code, entry ? `entry ${printable(entry.path)}: ${why}` : why));
        return false;
    };
    const filter = (path, e) => {
        const entry = e;
        if (failure)
            return false;
        if (++entries > limits.maxEntries)
            return refuse(null, `the archive has more than ${limits.maxEntries} entries`, 'limit');
        if (path.includes('\0'))
            return refuse(entry, 'the path holds a NUL byte');
        if (path.startsWith('/') || /^[A-Za-z]:/.test(path) || path.includes('\\'))
            return refuse(entry, 'absolute paths are not allowed in packages');
        const parts = path.split('/').filter((p) => p !== '' && p !== '.');
        if (parts.includes('..'))
            return refuse(entry, '".." segments are not allowed in packages');
        if (parts.length > limits.maxDepth)
            return refuse(entry, `the path is deeper than ${limits.maxDepth} levels`, 'limit');
        for (let i = 1; i <= parts.length; i++) {
            if (symlinks.has(parts.slice(0, i).join('/')) && i < parts.length)
                return refuse(entry, 'writes through a symbolic link');
        }
        if (entry.type === 'SymbolicLink') {
            if (!opts.allowSymlinks)
                return refuse(entry, `symbolic link to ${printable(String(entry.linkpath))}: the package does not set allowSymlinks`);
            const link = String(entry.linkpath ?? '');
            const here = parts.join('/');
            const walk = link.startsWith('/') || link.includes('\0') ? null : walkInside(parts.slice(0, -1), link, symlinks);
            if (!walk || walked.has(here))
                return refuse(entry, `symbolic link to ${printable(link)} points outside the package`);
            for (const p of walk)
                walked.add(p);
            symlinks.add(here);
            return true;
        }
        if (entry.type === 'Link')
            return refuse(entry, `hard link to ${printable(String(entry.linkpath))}: packages may not contain hard links`);
        if (!KINDS.has(entry.type))
            return refuse(entry, `${entry.type} entries are not allowed in packages`);
        if (entry.size > limits.maxFileBytes)
            return refuse(entry, `${entry.size} bytes is more than the limit of ${limits.maxFileBytes} per file`, 'limit');
        bytes += entry.size;
        if (bytes > limits.maxBytes)
            return refuse(null, `the files add up to more than the limit of ${limits.maxBytes} bytes`, 'limit');
        // No setuid, setgid or sticky bits from a package.
        if (typeof entry.mode === 'number')
            entry.mode &= 0o777;
        return true;
    };
    const unpack = new index_min/* Unpack */.dX({
        cwd: dest,
        strict: true,
        filter,
        maxDepth: limits.maxDepth,
        preserveOwner: false,
    });
    // Stops reading, then ends the parser, which closes once the writes it had
    // started are done: the caller then removes a directory nobody writes to.
    // Deferred, since the filter runs inside the parser's own write.
    function fail(err) {
        if (failure)
            return;
        failure = err;
        setImmediate(() => {
            counter.unpipe(unpack);
            source.destroy();
            gunzip?.destroy();
            counter.destroy();
            unpack.end();
        });
    }
    const onAbort = () => fail(new errors/* PackageError */.J('cancelled', 'the extraction was cancelled'));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
        await new Promise((resolve) => {
            unpack.on('meta', (meta) => {
                if (PAX_NUL.test(meta))
                    fail(new errors/* PackageError */.J('unsafe_entry', 'a PAX header has a path with a NUL byte'));
            });
            unpack.on('error', (err) => fail(asArchiveError(err)));
            unpack.on('close', () => resolve());
            source.on('error', (err) => fail(asArchiveError(err)));
            counter.on('error', (err) => fail(err instanceof errors/* PackageError */.J ? err : asArchiveError(err)));
            gunzip?.on('error', (err) => fail(asArchiveError(err)));
            (gunzip ? source.pipe(gunzip) : source).pipe(counter).pipe(unpack);
        });
    }
    finally {
        opts.signal?.removeEventListener('abort', onAbort);
    }
    if (failure)
        throw failure;
    if (entries === 0)
        throw new errors/* PackageError */.J('bad_archive', 'the archive is empty');
    return { entries, bytes };
}
/**
 * Follows a relative link target segment by segment from the link's
 * directory; null when it climbs above the package or passes through another
 * symlink (`x -> .` makes `x/..` the package's parent). Returns the
 * directories passed through.
 */
function walkInside(from, link, symlinks) {
    const at = from.slice();
    const passed = [];
    const segments = link.split('/').filter((p) => p !== '' && p !== '.');
    for (const [i, seg] of segments.entries()) {
        if (seg === '..') {
            if (at.length === 0)
                return null;
            at.pop();
            continue;
        }
        at.push(seg);
        const path = at.join('/');
        if (i < segments.length - 1) {
            if (symlinks.has(path))
                return null;
            passed.push(path);
        }
    }
    return passed;
}
async function isGzip(file) {
    const fh = await (0,promises_.open)(file, 'r');
    try {
        const { buffer, bytesRead } = await fh.read(Buffer.alloc(2), 0, 2, 0);
        return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
    }
    finally {
        await fh.close();
    }
}
function asArchiveError(err) {
    if (err instanceof errors/* PackageError */.J)
        return err;
    const why = err.code === 'Z_BUF_ERROR' ? 'the compressed data ends early (truncated archive)' : err.message;
    return new errors/* PackageError */.J('bad_archive', `the archive is damaged or not a tar archive: ${why}`);
}
/** JSON quoting shows control characters (a NUL as \u0000) instead of printing them. */
function printable(s) {
    return JSON.stringify(s.length > 200 ? `${s.slice(0, 200)}\u2026` : s);
}

;// CONCATENATED MODULE: ./runner-agent/src/packages/install.ts
// A deploy step on one target: the package is extracted into a fresh
// directory next to the releases, renamed into <project dir>/<release>, its
// deploy/pre.sh hook runs there, `current` is switched to it atomically (a new
// symlink renamed over the old one), deploy/post.sh runs, and releases beyond
// the newest `keepReleases` are removed. The list of installed releases is
// kept in .flotilla-releases, since scripts may leave their own directories
// next to the releases.





const RELEASES_FILE = '.flotilla-releases';
const HOOKS = { pre: 'deploy/pre.sh', post: 'deploy/post.sh' };
async function installRelease(opts) {
    const { projectDir, release } = opts;
    if (release === 'current' || release.startsWith('.'))
        throw new errors/* PackageError */.J('unsafe_entry', `release "${release}" would collide with Flotilla's own files`);
    await (0,promises_.mkdir)(projectDir, { recursive: true });
    const installDir = (0,external_node_path_.join)(projectDir, release);
    const staging = await (0,promises_.mkdtemp)((0,external_node_path_.join)(projectDir, '.flotilla-extract-'));
    // mkdtemp makes it private; a release directory is as readable as the project directory.
    await (0,promises_.chmod)(staging, 0o755);
    let extracted;
    try {
        extracted = await extractArchive(opts.archive, staging, {
            allowSymlinks: opts.allowSymlinks,
            limits: opts.limits,
            signal: opts.signal,
        });
    }
    catch (err) {
        await (0,promises_.rm)(staging, { recursive: true, force: true });
        throw err;
    }
    // Deploying a release again replaces its directory.
    const previous = (await exists(installDir)) ? (0,external_node_path_.join)(projectDir, `.flotilla-old-${suffix()}`) : null;
    if (previous)
        await (0,promises_.rename)(installDir, previous);
    await (0,promises_.rename)(staging, installDir);
    if (previous)
        await (0,promises_.rm)(previous, { recursive: true, force: true });
    opts.onLine(`extracted ${extracted.entries} entries (${extracted.bytes} bytes) into ${installDir}`);
    await hook(opts, HOOKS.pre, installDir);
    const link = (0,external_node_path_.join)(projectDir, `.flotilla-current-${suffix()}`);
    await (0,promises_.symlink)(release, link);
    await (0,promises_.rename)(link, (0,external_node_path_.join)(projectDir, 'current'));
    opts.onLine(`current -> ${release}`);
    await hook(opts, HOOKS.post, installDir);
    const removed = await prune(projectDir, release, opts.keepReleases);
    if (removed.length)
        opts.onLine(`removed old releases: ${removed.join(', ')}`);
    return { installDir, ...extracted, removed };
}
async function hook(opts, script, cwd) {
    const info = await (0,promises_.lstat)((0,external_node_path_.join)(cwd, script)).catch(() => null);
    if (!info?.isFile())
        return;
    opts.onLine(`running ${script}`);
    const r = await opts.runHook(script, cwd);
    if (!r.ok)
        throw new Error(`${script} failed: ${r.message}`);
}
/** Keeps the newest `keep` releases (the current one always). */
async function prune(projectDir, current, keep) {
    const file = (0,external_node_path_.join)(projectDir, RELEASES_FILE);
    let releases = [];
    try {
        releases = JSON.parse(await (0,promises_.readFile)(file, 'utf8')).filter((r) => typeof r === 'string');
    }
    catch { }
    releases = [...releases.filter((r) => r !== current), current];
    const active = await (0,promises_.readlink)((0,external_node_path_.join)(projectDir, 'current')).catch(() => current);
    const removed = [];
    while (releases.length > keep) {
        const oldest = releases.findIndex((r) => r !== active && r !== current);
        if (oldest < 0)
            break;
        const [name] = releases.splice(oldest, 1);
        if (!name || name.includes('/') || name.startsWith('.'))
            continue;
        await (0,promises_.rm)((0,external_node_path_.join)(projectDir, name), { recursive: true, force: true });
        removed.push(name);
    }
    const tmp = `${file}.${suffix()}`;
    await (0,promises_.writeFile)(tmp, JSON.stringify(releases));
    await (0,promises_.rename)(tmp, file);
    return removed;
}
const suffix = () => (0,external_node_crypto_.randomBytes)(4).toString('hex');
async function exists(path) {
    return (0,promises_.lstat)(path).then(() => true, () => false);
}


/***/ })

};
