export const id = 998;
export const ids = [998];
export const modules = {

/***/ 52998:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   download: () => (/* binding */ download),
/* harmony export */   redact: () => (/* binding */ redact)
/* harmony export */ });
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(73024);
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_fs__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var node_fs_promises__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(51455);
/* harmony import */ var node_fs_promises__WEBPACK_IMPORTED_MODULE_1___default = /*#__PURE__*/__webpack_require__.n(node_fs_promises__WEBPACK_IMPORTED_MODULE_1__);
/* harmony import */ var node_stream_promises__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(46466);
/* harmony import */ var node_stream_promises__WEBPACK_IMPORTED_MODULE_2___default = /*#__PURE__*/__webpack_require__.n(node_stream_promises__WEBPACK_IMPORTED_MODULE_2__);
/* harmony import */ var undici__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(24371);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(13281);
/* harmony import */ var _hasher_js__WEBPACK_IMPORTED_MODULE_5__ = __webpack_require__(23449);
// Downloads one package from its feed into a partial file, hashing the bytes
// as they stream past (the file is never read back). Transient failures (a
// 5xx, a reset, a stalled body) are retried with backoff; a retry asks for the
// rest with a Range request and keeps the hash state, and starts over when the
// feed answers with the whole body instead.






const MAX_REDIRECTS = 5;
async function download(opts) {
    const progress = { hash: new _hasher_js__WEBPACK_IMPORTED_MODULE_5__/* .Sha256Stream */ .Q(), written: 0 };
    try {
        return await downloadWith(opts, progress);
    }
    finally {
        await progress.hash.close();
    }
}
async function restart(opts, progress) {
    await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_1__.truncate)(opts.dest, 0).catch(() => { });
    await progress.hash.close();
    progress.hash = new _hasher_js__WEBPACK_IMPORTED_MODULE_5__/* .Sha256Stream */ .Q();
    progress.written = 0;
}
async function downloadWith(opts, progress) {
    for (let attempt = 1;; attempt++) {
        try {
            await fetchOnce(opts, progress);
            break;
        }
        catch (err) {
            const e = asPackageError(err, opts);
            if (!e.transient || attempt >= opts.attempts || opts.signal.aborted)
                throw e;
            // What reached the disk is what the hash saw, unless a write was cut off: then start over.
            const size = await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_1__.stat)(opts.dest).then((s) => s.size, () => 0);
            if (size !== progress.written)
                await restart(opts, progress);
            const delay = Math.min(opts.backoffMs * 2 ** (attempt - 1), 30_000);
            opts.onRetry?.(attempt, e, delay);
            await sleep(delay, opts.signal);
        }
    }
    const actual = await progress.hash.digest();
    if (actual !== opts.sha256) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_4__/* .PackageError */ .J('hash_mismatch', `sha256 mismatch for ${redact(opts.url)}: expected ${opts.sha256}, got ${actual} (${progress.written} bytes)`);
    }
    return { bytes: progress.written };
}
async function fetchOnce(opts, progress) {
    let url = opts.guard.checkUrl(opts.url);
    for (let hop = 0;; hop++) {
        const res = await (0,undici__WEBPACK_IMPORTED_MODULE_3__/* .request */ .Em)(url, {
            method: 'GET',
            dispatcher: opts.dispatcher,
            signal: opts.signal,
            headers: progress.written > 0 ? { range: `bytes=${progress.written}-` } : {},
        });
        if (res.statusCode >= 300 && res.statusCode < 400 && res.headers.location) {
            await res.body.dump();
            if (hop >= MAX_REDIRECTS) {
                throw new _errors_js__WEBPACK_IMPORTED_MODULE_4__/* .PackageError */ .J('too_many_redirects', `${redact(opts.url)} redirected more than ${MAX_REDIRECTS} times`);
            }
            url = opts.guard.checkUrl(new URL(String(res.headers.location), url).href);
            continue;
        }
        if (res.statusCode !== 200 && res.statusCode !== 206) {
            await res.body.dump().catch(() => { });
            const transient = res.statusCode >= 500 || res.statusCode === 429 || res.statusCode === 408;
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_4__/* .PackageError */ .J('http_status', `package feed answered ${res.statusCode} for ${redact(url.href)}`, transient);
        }
        const resumed = res.statusCode === 206 &&
            String(res.headers['content-range'] ?? '').startsWith(`bytes ${progress.written}-`);
        if (!resumed && progress.written > 0)
            await restart(opts, progress);
        const length = Number(res.headers['content-length'] ?? Number.NaN);
        if (progress.written + (Number.isFinite(length) ? length : 0) > opts.maxBytes) {
            await res.body.dump().catch(() => { });
            throw tooLarge(opts);
        }
        const append = progress.written > 0;
        await (0,node_stream_promises__WEBPACK_IMPORTED_MODULE_2__.pipeline)(res.body, async function* (source) {
            for await (const chunk of source) {
                if (progress.written + chunk.length > opts.maxBytes)
                    throw tooLarge(opts);
                await progress.hash.update(chunk);
                progress.written += chunk.length;
                yield chunk;
            }
        }, (0,node_fs__WEBPACK_IMPORTED_MODULE_0__.createWriteStream)(opts.dest, { flags: append ? 'a' : 'w' }));
        return;
    }
}
const tooLarge = (opts) => new _errors_js__WEBPACK_IMPORTED_MODULE_4__/* .PackageError */ .J('too_large', `package at ${redact(opts.url)} is larger than the limit of ${opts.maxBytes} bytes`);
/** Query strings often carry signed tokens; messages keep only origin and path. */
function redact(url) {
    try {
        const u = new URL(url);
        return `${u.origin}${u.pathname}`;
    }
    catch {
        return url.slice(0, 200);
    }
}
function asPackageError(err, opts) {
    if (err instanceof _errors_js__WEBPACK_IMPORTED_MODULE_4__/* .PackageError */ .J)
        return err;
    if (opts.signal.aborted)
        return new _errors_js__WEBPACK_IMPORTED_MODULE_4__/* .PackageError */ .J('cancelled', 'the download was cancelled');
    const e = err;
    if (e.cause instanceof _errors_js__WEBPACK_IMPORTED_MODULE_4__/* .PackageError */ .J)
        return e.cause;
    const code = e.code ?? e.cause?.code ?? '';
    if (code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT') {
        return new _errors_js__WEBPACK_IMPORTED_MODULE_4__/* .PackageError */ .J('stalled', `the feed stopped sending ${redact(opts.url)} (${code})`, true);
    }
    return new _errors_js__WEBPACK_IMPORTED_MODULE_4__/* .PackageError */ .J('network', `downloading ${redact(opts.url)} failed: ${e.cause?.message ?? e.message}${code ? ` (${code})` : ''}`, true);
}
function sleep(ms, signal) {
    return new Promise((resolve) => {
        if (signal.aborted)
            return resolve();
        const done = () => {
            clearTimeout(t);
            signal.removeEventListener('abort', done);
            resolve();
        };
        const t = setTimeout(done, ms);
        signal.addEventListener('abort', done, { once: true });
    });
}


/***/ })

};
