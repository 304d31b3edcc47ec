// Builds the ncc bundles into dist/ (or into the folder given as argument,
// which check-dist uses to compare a fresh build with the committed one).
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import ncc from '@vercel/ncc';
import { BUNDLES } from './bundles.mjs';

const root = resolve(import.meta.dirname, '..');
const outRoot = process.argv[2] ? resolve(process.argv[2]) : root;

// V8 holds a script's source in memory as long as the script lives, with one
// byte per character only if every character is Latin-1: a single "…" in a
// comment doubles what a 1.5 MB chunk costs (about 2.7 MB of the agent's idle
// memory in all). Non-ASCII characters are written as \u escapes, which mean
// the same in strings, templates, regular expressions and identifiers (an
// escaped one, `\…`, loses its backslash); only a tagged template's raw text
// would see the escape, and no bundled code has non-ASCII there. U+2028 and
// U+2029 stay as they are: they end a line comment, their escapes would not.
const asciiOnly = (js) =>
  js.replace(
    /(\\*)([^\0-\x7f\u2028\u2029])/g,
    (_, slashes, c) =>
      `${slashes.length % 2 ? slashes.slice(1) : slashes}\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

// Chunk names change from build to build; stale ones must not linger.
await rm(join(outRoot, 'dist'), { recursive: true, force: true });
for (const { entry, out, bin } of BUNDLES) {
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
  await writeFile(join(dir, 'index.js'), asciiOnly(code));
  // Rebuilt, the bin would otherwise lose its mode, and `npx flotilla` say "Permission denied".
  if (bin) await chmod(join(dir, 'index.js'), 0o755);
  for (const [name, asset] of Object.entries(assets)) {
    const file = join(dir, name);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, name.endsWith('.js') ? asciiOnly(String(asset.source)) : asset.source);
  }
  console.log(`built ${out}/index.js (${(code.length / 1024).toFixed(0)} KiB)`);
}
