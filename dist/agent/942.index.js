export const id = 942;
export const ids = [942];
export const modules = {

/***/ 73561:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   HostGuard: () => (/* binding */ HostGuard)
/* harmony export */ });
/* harmony import */ var node_dns__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(40610);
/* harmony import */ var node_dns__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_dns__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var node_net__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(77030);
/* harmony import */ var node_net__WEBPACK_IMPORTED_MODULE_1___default = /*#__PURE__*/__webpack_require__.n(node_net__WEBPACK_IMPORTED_MODULE_1__);
/* harmony import */ var undici__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(24371);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(13281);
// The SSRF guard for package URLs: only hosts in `allowedHosts`, and never a
// private, loopback or link-local address unless that address itself is
// listed. Addresses are checked where the socket connects (a custom DNS
// lookup), so a name that resolves differently the second time cannot slip
// through; each redirect goes through the same check.




const RESERVED = new node_net__WEBPACK_IMPORTED_MODULE_1__.BlockList();
for (const [net, bits] of [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15],
    ['224.0.0.0', 4],
    ['240.0.0.0', 4],
])
    RESERVED.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
    ['::', 128],
    ['::1', 128],
    ['fc00::', 7],
    ['fe80::', 10],
    ['ff00::', 8],
    ['::ffff:0:0', 96],
    ['64:ff9b::', 96],
])
    RESERVED.addSubnet(net, bits, 'ipv6');
const bare = (host) => host.replace(/^\[|\]$/g, '').toLowerCase();
class HostGuard {
    hosts;
    constructor(allowedHosts) {
        this.hosts = allowedHosts.map(bare);
    }
    /** Refuses a URL that is not http(s) or whose host is not allowed. */
    checkUrl(raw) {
        let url;
        try {
            url = new URL(raw);
        }
        catch {
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .PackageError */ .J('bad_url', `package URL ${raw} is not a valid URL`);
        }
        if (url.protocol !== 'http:' && url.protocol !== 'https:') {
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .PackageError */ .J('bad_url', `package URL ${url.origin} must be http or https`);
        }
        if (url.username || url.password) {
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .PackageError */ .J('bad_url', `package URL for ${url.hostname} must not carry credentials`);
        }
        const host = bare(url.hostname);
        if (!this.hostAllowed(host)) {
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .PackageError */ .J('forbidden_host', `package host ${host} is not in packages.allowedHosts (${this.hosts.join(', ') || 'empty'})`);
        }
        if ((0,node_net__WEBPACK_IMPORTED_MODULE_1__.isIP)(host))
            this.checkAddress(host, host);
        return url;
    }
    hostAllowed(host) {
        return this.hosts.some((h) => h === host || (h.startsWith('*.') && host.endsWith(h.slice(1))));
    }
    /** A reserved address passes only when it is listed itself. */
    checkAddress(address, host) {
        const family = (0,node_net__WEBPACK_IMPORTED_MODULE_1__.isIP)(address) === 6 ? 'ipv6' : 'ipv4';
        if (RESERVED.check(address, family) && !this.hosts.includes(bare(address))) {
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .PackageError */ .J('forbidden_address', `package host ${host} resolves to ${address}, a private, loopback or link-local address; ` +
                'list the address itself in packages.allowedHosts to allow it');
        }
    }
    /** An undici dispatcher whose every connection goes through checkAddress. */
    dispatcher(opts) {
        const lookup = (hostname, options, callback) => {
            (0,node_dns__WEBPACK_IMPORTED_MODULE_0__.lookup)(hostname, { ...options, all: true }, (err, addresses) => {
                if (err)
                    return callback(err, []);
                try {
                    for (const a of addresses)
                        this.checkAddress(a.address, hostname);
                }
                catch (e) {
                    return callback(e, []);
                }
                if (options.all)
                    return callback(null, addresses);
                const first = addresses[0];
                callback(null, first.address, first.family);
            });
        };
        return new undici__WEBPACK_IMPORTED_MODULE_2__/* .Agent */ .g6({
            headersTimeout: opts.headersTimeoutMs,
            bodyTimeout: opts.bodyTimeoutMs,
            connect: { lookup },
        });
    }
}


/***/ })

};
