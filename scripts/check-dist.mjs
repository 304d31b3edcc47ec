// Fails when dist/ differs from a fresh build of the sources: the action runs
// the committed bundles, so a stale one would ship old code.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const executable = (p) => (statSync(p).mode & 0o111) !== 0;
const fresh = mkdtempSync(join(tmpdir(), 'flotilla-dist-'));
try {
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs'), fresh], { stdio: 'inherit' });
  const files = (dir) =>
    readdirSync(dir).flatMap((n) => {
      const p = join(dir, n);
      return statSync(p).isDirectory() ? files(p) : [p];
    });
  const want = new Map(files(join(fresh, 'dist')).map((p) => [relative(fresh, p), p]));
  const have = new Map(files(join(root, 'dist')).map((p) => [relative(root, p), p]));
  const stale = [];
  for (const [name, p] of want) {
    if (!have.has(name)) stale.push(`${name} is missing`);
    else if (!readFileSync(p).equals(readFileSync(have.get(name)))) stale.push(`${name} differs`);
    else if (executable(p) !== executable(have.get(name)))
      stale.push(`${name} is ${executable(p) ? 'not ' : ''}executable`);
  }
  for (const name of have.keys()) if (!want.has(name)) stale.push(`${name} is not built by the sources`);
  if (stale.length > 0) {
    console.error(`dist/ is stale: ${stale.join('; ')}.\nRun \`npm run build\` and commit dist/.`);
    process.exit(1);
  }
  console.log('dist/ matches a fresh build');
} finally {
  rmSync(fresh, { recursive: true, force: true });
}
