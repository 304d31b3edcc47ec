// The committed bundles: entry point -> folder under dist/; `bin` ones are executable (package.json's bin).
export const BUNDLES = [
  { entry: 'src/main.ts', out: 'dist' },
  { entry: 'src/post.ts', out: 'dist/post' },
  { entry: 'runner-agent/src/cli/bin.ts', out: 'dist/agent', bin: true },
  // The executor process the agent forks to start action scripts (worker/executor.ts finds it here).
  { entry: 'runner-agent/src/worker/spawner.ts', out: 'dist/agent/spawner' },
];
