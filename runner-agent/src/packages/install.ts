// A deploy step on one target: the package is extracted into a fresh
// directory next to the releases, renamed into <project dir>/<release>, its
// deploy/pre.sh hook runs there, `current` is switched to it atomically (a new
// symlink renamed over the old one), deploy/post.sh runs, and releases beyond
// the newest `keepReleases` are removed. The list of installed releases is
// kept in .flotilla-releases, since scripts may leave their own directories
// next to the releases.
import { randomBytes } from 'node:crypto';
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readlink,
  rename,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { PackageError } from './errors.ts';
import { type ExtractLimits, extractArchive } from './extract.ts';

export interface HookResult {
  ok: boolean;
  message: string;
}

export interface InstallOptions {
  archive: string;
  /** <root>/<tenant|_>/<project> */
  projectDir: string;
  release: string;
  keepReleases: number;
  allowSymlinks: boolean;
  limits?: ExtractLimits;
  signal: AbortSignal;
  /** Runs a hook script shipped in the package, with the action's environment, in the release directory. */
  runHook: (script: string, cwd: string) => Promise<HookResult>;
  onLine: (line: string) => void;
}

export interface Installed {
  installDir: string;
  entries: number;
  bytes: number;
  removed: string[];
}

const RELEASES_FILE = '.flotilla-releases';
const HOOKS = { pre: 'deploy/pre.sh', post: 'deploy/post.sh' } as const;

export async function installRelease(opts: InstallOptions): Promise<Installed> {
  const { projectDir, release } = opts;
  if (release === 'current' || release.startsWith('.'))
    throw new PackageError('unsafe_entry', `release "${release}" would collide with Flotilla's own files`);
  await mkdir(projectDir, { recursive: true });
  const installDir = join(projectDir, release);
  const staging = await mkdtemp(join(projectDir, '.flotilla-extract-'));
  // mkdtemp makes it private; a release directory is as readable as the project directory.
  await chmod(staging, 0o755);
  let extracted: { entries: number; bytes: number };
  try {
    extracted = await extractArchive(opts.archive, staging, {
      allowSymlinks: opts.allowSymlinks,
      limits: opts.limits,
      signal: opts.signal,
    });
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
  // Deploying a release again replaces its directory.
  const previous = (await exists(installDir)) ? join(projectDir, `.flotilla-old-${suffix()}`) : null;
  if (previous) await rename(installDir, previous);
  await rename(staging, installDir);
  if (previous) await rm(previous, { recursive: true, force: true });
  opts.onLine(`extracted ${extracted.entries} entries (${extracted.bytes} bytes) into ${installDir}`);

  await hook(opts, HOOKS.pre, installDir);
  const link = join(projectDir, `.flotilla-current-${suffix()}`);
  await symlink(release, link);
  await rename(link, join(projectDir, 'current'));
  opts.onLine(`current -> ${release}`);
  await hook(opts, HOOKS.post, installDir);

  const removed = await prune(projectDir, release, opts.keepReleases);
  if (removed.length) opts.onLine(`removed old releases: ${removed.join(', ')}`);
  return { installDir, ...extracted, removed };
}

async function hook(opts: InstallOptions, script: string, cwd: string): Promise<void> {
  const info = await lstat(join(cwd, script)).catch(() => null);
  if (!info?.isFile()) return;
  opts.onLine(`running ${script}`);
  const r = await opts.runHook(script, cwd);
  if (!r.ok) throw new Error(`${script} failed: ${r.message}`);
}

/** Keeps the newest `keep` releases (the current one always). */
async function prune(projectDir: string, current: string, keep: number): Promise<string[]> {
  const file = join(projectDir, RELEASES_FILE);
  let releases: string[] = [];
  try {
    releases = (JSON.parse(await readFile(file, 'utf8')) as string[]).filter((r) => typeof r === 'string');
  } catch {}
  releases = [...releases.filter((r) => r !== current), current];
  const active = await readlink(join(projectDir, 'current')).catch(() => current);
  const removed: string[] = [];
  while (releases.length > keep) {
    const oldest = releases.findIndex((r) => r !== active && r !== current);
    if (oldest < 0) break;
    const [name] = releases.splice(oldest, 1);
    if (!name || name.includes('/') || name.startsWith('.')) continue;
    await rm(join(projectDir, name), { recursive: true, force: true });
    removed.push(name);
  }
  const tmp = `${file}.${suffix()}`;
  await writeFile(tmp, JSON.stringify(releases));
  await rename(tmp, file);
  return removed;
}

const suffix = () => randomBytes(4).toString('hex');

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}
