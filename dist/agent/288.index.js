export const id = 288;
export const ids = [288];
export const modules = {

/***/ 50288:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   agentCommand: () => (/* binding */ agentCommand)
/* harmony export */ });
/* harmony import */ var pino__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(65005);
/* harmony import */ var pino__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(pino__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var _agent_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(48502);
/* harmony import */ var _config_settings_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(18950);
// `flotilla agent`: a long-running coordinator until SIGTERM, which drains.



async function agentCommand(flags) {
    const settings = await (0,_config_settings_js__WEBPACK_IMPORTED_MODULE_2__/* .resolveAgentSettings */ .Vm)(flags);
    const log = pino__WEBPACK_IMPORTED_MODULE_0___default()({ level: process.env.FLOTILLA_LOG_LEVEL ?? 'info' });
    const agent = await (0,_agent_js__WEBPACK_IMPORTED_MODULE_1__/* .startAgent */ .I)(settings, log);
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


/***/ })

};
