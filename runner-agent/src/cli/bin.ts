#!/usr/bin/env node
// The `flotilla` executable. The version check comes before anything else is
// loaded: on an older Node the agent's modules (node:sqlite) would fail to load
// with a stack trace instead of a sentence.
const MIN_NODE_MAJOR = 24;

if (Number(process.versions.node.split('.')[0]) < MIN_NODE_MAJOR) {
  console.error(
    `flotilla: needs Node.js ${MIN_NODE_MAJOR} or newer; this is Node.js ${process.versions.node} (${process.execPath})`,
  );
  process.exit(2);
}
await import('./main.ts');
