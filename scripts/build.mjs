// Builds the ncc bundles into dist/ (or into the folder given as argument,
// which check-dist uses to compare a fresh build with the committed one).
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import ncc from '@vercel/ncc';
import { BUNDLES } from './bundles.mjs';

const root = resolve(import.meta.dirname, '..');
const outRoot = process.argv[2] ? resolve(process.argv[2]) : root;

// Chunk names change from build to build; stale ones must not linger.
await rm(join(outRoot, 'dist'), { recursive: true, force: true });
for (const { entry, out } of BUNDLES) {
  const dir = join(outRoot, out);
  const { code, assets } = await ncc(join(root, entry), {
    quiet: true,
    license: 'licenses.txt',
    sourceMap: false,
    target: 'es2023',
    // Bundles must be byte-for-byte reproducible for check-dist.
    cache: false,
  });
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'index.js'), code);
  for (const [name, asset] of Object.entries(assets)) {
    const file = join(dir, name);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, asset.source);
  }
  console.log(`built ${out}/index.js (${(code.length / 1024).toFixed(0)} KiB)`);
}
