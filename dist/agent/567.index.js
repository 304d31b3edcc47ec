export const id = 567;
export const ids = [567];
export const modules = {

/***/ 567:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   validateCommand: () => (/* binding */ validateCommand)
/* harmony export */ });
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(76760);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_path__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var _src_plan_index_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(91816);
/* harmony import */ var _config_load_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(49211);
// `flotilla validate PLAN...`: every problem of every plan, with path and line.



async function validateCommand(files, opts, out) {
    let inventory;
    if (opts.config) {
        const config = await (0,_config_load_js__WEBPACK_IMPORTED_MODULE_2__/* .loadAgentConfigFile */ .O)(opts.config);
        if (!config.ok) {
            for (const issue of config.issues)
                out((0,_src_plan_index_js__WEBPACK_IMPORTED_MODULE_1__/* .formatIssue */ .Hd)(opts.config, issue));
            return 1;
        }
        inventory = (0,_config_load_js__WEBPACK_IMPORTED_MODULE_2__/* .inventoryOf */ .o)(config.config, (0,node_path__WEBPACK_IMPORTED_MODULE_0__.dirname)(opts.config));
    }
    let failed = 0;
    for (const file of files) {
        const result = await (0,_src_plan_index_js__WEBPACK_IMPORTED_MODULE_1__/* .loadPlanFile */ .w$)(file);
        let issues = result.ok ? [] : result.issues;
        let summary = '';
        if (result.ok) {
            const { plan } = result;
            // Expansion needs an environment and a release; validation only checks shapes, so any will do.
            const spec = (0,_src_plan_index_js__WEBPACK_IMPORTED_MODULE_1__/* .expandDeployment */ .IQ)(plan, {
                environment: opts.environment ?? plan.environment ?? 'validate',
                release: opts.release ?? plan.release ?? 'validate',
            });
            if (!spec.ok)
                issues = spec.issues;
            else if (inventory)
                issues = (0,_src_plan_index_js__WEBPACK_IMPORTED_MODULE_1__/* .checkInventory */ .Lb)(plan, spec.value, inventory);
            const tenants = plan.tenants ? plural(plan.tenants.length, 'tenant') : 'untenanted';
            summary = [
                tenants,
                plural(plan.steps.length, 'step'),
                inventory ? plural(inventory.length, 'target') : '',
            ]
                .filter(Boolean)
                .join(', ');
        }
        if (issues.length === 0) {
            out(`${file}: ok (${summary})`);
            continue;
        }
        failed++;
        for (const issue of issues)
            out((0,_src_plan_index_js__WEBPACK_IMPORTED_MODULE_1__/* .formatIssue */ .Hd)(file, issue));
    }
    if (files.length > 1)
        out(`${files.length - failed} valid, ${failed} invalid`);
    return failed > 0 ? 1 : 0;
}
const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;


/***/ })

};
