export const id = 288;
export const ids = [288];
export const modules = {

/***/ 50288:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   agentCommand: () => (/* binding */ agentCommand)
/* harmony export */ });
/* harmony import */ var _agent_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(48502);
/* harmony import */ var _config_settings_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(18950);
/* harmony import */ var _log_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(88323);
// `flotilla agent`: a long-running coordinator until SIGTERM, which drains.



async function agentCommand(flags) {
    const settings = await (0,_config_settings_js__WEBPACK_IMPORTED_MODULE_1__/* .resolveAgentSettings */ .Vm)(flags);
    const log = (0,_log_js__WEBPACK_IMPORTED_MODULE_2__/* .cliLogger */ .$)();
    const agent = await (0,_agent_js__WEBPACK_IMPORTED_MODULE_0__/* .startAgent */ .I)(settings, log);
    await new Promise((resolve) => {
        const onSignal = (sig) => {
            log.info({ signal: sig, running: agent.coordinator.runningCount }, 'draining: waiting for running tasks, then exiting');
            resolve();
        };
        process.once('SIGTERM', onSignal);
        process.once('SIGINT', onSignal);
    });
    await agent.stop();
    log.info('stopped');
    return 0;
}


/***/ }),

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


/***/ })

};
