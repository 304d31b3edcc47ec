// Defensive extraction: malicious archives built byte by byte are refused with
// an error that says why, and nothing is written outside the install root (or
// inside it: a refused release leaves no directory behind).

import { once } from 'node:events';
import { createWriteStream, existsSync, lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { PackageError } from '../../runner-agent/src/packages/errors.ts';
import { DEFAULT_EXTRACT_LIMITS, type ExtractLimits } from '../../runner-agent/src/packages/extract.ts';
import { installRelease } from '../../runner-agent/src/packages/install.ts';
import { removeTempDirs, tempDir } from '../helpers/util.ts';
import { header, samplePackage, type TarEntry, tarball, tgz } from './tarball.ts';

afterEach(removeTempDirs);

interface Setup {
  dir: string;
  root: string;
  outside: string;
  projectDir: string;
}

function setup(): Setup {
  const dir = tempDir('flotilla-extract-');
  const root = join(dir, 'root');
  const outside = join(dir, 'outside');
  return { dir, root, outside, projectDir: join(root, 'acme', 'shop') };
}

async function install(
  s: Setup,
  archive: Buffer,
  opts: { release?: string; allowSymlinks?: boolean; limits?: Partial<ExtractLimits>; keep?: number } = {},
) {
  const file = join(s.dir, `pkg-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, archive);
  return installRelease({
    archive: file,
    projectDir: s.projectDir,
    release: opts.release ?? '1.0.0',
    keepReleases: opts.keep ?? 3,
    allowSymlinks: opts.allowSymlinks ?? false,
    limits: { ...DEFAULT_EXTRACT_LIMITS, ...opts.limits },
    signal: new AbortController().signal,
    runHook: async () => ({ ok: true, message: '' }),
    onLine: () => {},
  });
}

/** Every path under `dir`, relative. */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

async function refused(s: Setup, archive: Buffer, message: RegExp, opts: Parameters<typeof install>[2] = {}) {
  const err = await install(s, archive, opts).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, 'the archive was accepted').toBeInstanceOf(PackageError);
  expect((err as Error).message).toMatch(message);
  // Nothing outside the root, and no release (or staging directory) inside it.
  expect(existsSync(s.outside)).toBe(false);
  expect(tree(s.projectDir)).toEqual([]);
  expect(existsSync(join(s.dir, 'evil'))).toBe(false);
}

const zeroMiBs = (n: number) => Array.from({ length: n }, () => Buffer.alloc(1 << 20));

/** Gzips `parts` through a file, streaming, so a bomb never sits in memory uncompressed as one buffer. */
async function gzipped(dir: string, parts: Buffer[]): Promise<Buffer> {
  const file = join(dir, `bomb-${Math.random().toString(36).slice(2)}.tgz`);
  const gz = createGzip({ level: 1 });
  const out = createWriteStream(file);
  gz.pipe(out);
  for (const p of parts) if (!gz.write(p)) await once(gz, 'drain');
  gz.end();
  await once(out, 'close');
  return readFileSync(file);
}

describe('defensive extraction', () => {
  it('installs a well-formed package', async () => {
    const s = setup();
    const r = await install(s, samplePackage());
    expect(r.entries).toBe(4);
    expect(readFileSync(join(s.projectDir, '1.0.0', 'index.html'), 'utf8')).toBe('<h1>v1</h1>\n');
    expect(lstatSync(join(s.projectDir, 'current')).isSymbolicLink()).toBe(true);
  });

  const cases: [string, TarEntry[], RegExp, Parameters<typeof install>[2]?][] = [
    ['an absolute path', [{ name: '/tmp/evil', body: 'x' }], /absolute paths are not allowed/],
    ['a // prefix', [{ name: '//evil', body: 'x' }], /absolute paths are not allowed/],
    ['a .. segment', [{ name: 'a/../../../evil', body: 'x' }], /"\.\." segments are not allowed/],
    ['a leading ..', [{ name: '../evil', body: 'x' }], /"\.\." segments are not allowed/],
    [
      'a symlink (not allowed by the plan) then a file written through it',
      [
        { name: 'link', type: '2', linkname: '../../outside' },
        { name: 'link/evil', body: 'x' },
      ],
      /symbolic link to "..\/..\/outside": the package does not set allowSymlinks/,
    ],
    [
      'a symlink pointing outside even where symlinks are allowed',
      [
        { name: 'link', type: '2', linkname: '../../outside' },
        { name: 'link/evil', body: 'x' },
      ],
      /points outside the package/,
      { allowSymlinks: true },
    ],
    [
      'a symlink chain that climbs out through another symlink',
      [
        { name: 'x', type: '2', linkname: '.' },
        { name: 'y', type: '2', linkname: 'x/..' },
      ],
      /symbolic link to "x\/\.\." points outside the package/,
      { allowSymlinks: true },
    ],
    [
      'a symlink placed where an earlier link target passes',
      [
        { name: 'y', type: '2', linkname: 'x/..' },
        { name: 'x', type: '2', linkname: '.' },
      ],
      /entry "x": symbolic link to "\." points outside the package/,
      { allowSymlinks: true },
    ],
    [
      'a file written through an inside symlink',
      [
        { name: 'sub/', type: '5' },
        { name: 'link', type: '2', linkname: 'sub' },
        { name: 'link/evil', body: 'x' },
      ],
      /entry "link\/evil": writes through a symbolic link/,
      { allowSymlinks: true },
    ],
    [
      'a hard link pointing outside',
      [{ name: 'passwd', type: '1', linkname: '../../../../etc/passwd' }],
      /hard link to ".*etc\/passwd": packages may not contain hard links/,
    ],
    ['a character device', [{ name: 'tty', type: '3' }], /CharacterDevice entries are not allowed/],
    [
      'deep nesting',
      [{ name: 'x', body: 'x', pax: { path: `${Array.from({ length: 60 }, () => 'd').join('/')}/f` } }],
      /deeper than 48 levels/,
    ],
    [
      'a NUL byte in a PAX path',
      [{ name: 'innocent', body: 'x', pax: { path: 'innocent\0/../../evil' } }],
      /PAX header has a path with a NUL byte/,
    ],
  ];
  for (const [what, entries, message, opts] of cases) {
    it(`refuses ${what}`, async () => {
      await refused(setup(), tgz([{ name: 'ok.txt', body: 'fine' }, ...entries]), message, opts);
    });
  }

  it('refuses a huge entry count', async () => {
    const entries = Array.from({ length: 501 }, (_, i) => ({ name: `f${i}`, body: '' }));
    await refused(setup(), tgz(entries), /more than 500 entries/, { limits: { maxEntries: 500 } });
  });

  it('refuses a file larger than the per-file cap from its header', async () => {
    const big = Buffer.concat([header({ name: 'big', size: 2 ** 33 }), Buffer.alloc(512)]);
    await refused(setup(), big, /8589934592 bytes is more than the limit of 1048576 per file/, {
      limits: { maxFileBytes: 1 << 20 },
    });
  });

  it('refuses a gzip bomb (files adding up past the cap)', async () => {
    const s = setup();
    // 16 files of 16 MiB of zeros: 256 MiB that compress to a few hundred KiB.
    const parts = Array.from({ length: 16 }, (_, i) => [
      header({ name: `zero-${i}`, size: 16 << 20 }),
      ...zeroMiBs(16),
    ]);
    const bomb = await gzipped(s.dir, [...parts.flat(), Buffer.alloc(1024)]);
    await refused(s, bomb, /add up to more than the limit of 67108864 bytes/, {
      limits: { maxBytes: 64 << 20 },
    });
  });

  it('refuses a gzip bomb hidden after the end of the archive', async () => {
    const s = setup();
    const bomb = await gzipped(s.dir, [tarball([{ name: 'ok.txt', body: 'fine' }]), ...zeroMiBs(64)]);
    await refused(s, bomb, /expands to more than 4194304 bytes/, {
      limits: { maxBytes: 4 << 20, maxEntries: 100 },
    });
  });

  it('refuses a truncated archive, compressed or not', async () => {
    const whole = tarball([{ name: 'a.bin', body: Buffer.alloc(100_000, 7) }]);
    await refused(setup(), whole.subarray(0, 30_000), /damaged|truncated/i);
    const gz = tgz([{ name: 'a.bin', body: Buffer.alloc(100_000, 7) }]);
    await refused(setup(), gz.subarray(0, Math.floor(gz.length / 2)), /damaged|truncated/i);
  });

  it('refuses something that is not a tar archive', async () => {
    await refused(
      setup(),
      Buffer.from('<html>not found</html>\n'.repeat(50)),
      /damaged or not a tar archive/,
    );
  });

  it('keeps symlinks that stay inside when the plan allows them', async () => {
    const s = setup();
    await install(
      s,
      tgz([
        { name: 'sub/', type: '5' },
        { name: 'sub/a.txt', body: 'a' },
        { name: 'link', type: '2', linkname: 'sub/a.txt' },
      ]),
      { allowSymlinks: true },
    );
    expect(readFileSync(join(s.projectDir, '1.0.0', 'link'), 'utf8')).toBe('a');
  });

  it('strips setuid bits', async () => {
    const s = setup();
    await install(s, tgz([{ name: 'tool', body: '#!/bin/sh\n', mode: 0o4755 }]));
    expect(lstatSync(join(s.projectDir, '1.0.0', 'tool')).mode & 0o7777).toBe(0o755);
  });

  it('switches current atomically and keeps the newest releases', async () => {
    const s = setup();
    for (const v of ['1', '2', '3', '4']) await install(s, samplePackage(v), { release: `v${v}`, keep: 2 });
    expect(tree(s.projectDir).filter((p) => !p.includes('/'))).toEqual([
      '.flotilla-releases',
      'current',
      'v3',
      'v4',
    ]);
    expect(readFileSync(join(s.projectDir, 'current', 'index.html'), 'utf8')).toBe('<h1>4</h1>\n');
    // Deploying a release again replaces it.
    await install(s, samplePackage('again'), { release: 'v3', keep: 2 });
    expect(readFileSync(join(s.projectDir, 'current', 'index.html'), 'utf8')).toBe('<h1>again</h1>\n');
    expect(tree(s.projectDir).filter((p) => !p.includes('/'))).toEqual([
      '.flotilla-releases',
      'current',
      'v3',
      'v4',
    ]);
  });
});
