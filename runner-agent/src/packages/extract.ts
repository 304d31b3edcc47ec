// Defensive extraction of a package archive (.tar or .tar.gz) with node-tar in
// strict mode. Every entry is checked before anything is written: only files
// and directories (and symlinks that stay inside the package, when the plan
// allows them), no absolute paths, no `..`, nothing written through a
// symlink, caps on entries, bytes, file size and depth. The first refusal
// stops the extraction; the caller extracts into a fresh directory and throws
// it away on failure, so a refused package leaves nothing behind.
// Decompression runs in node's zlib thread pool and files are written with
// asynchronous I/O, so the event loop keeps serving while a large package
// is extracted.
import { createReadStream, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { type ReadEntry, Unpack } from 'tar';
import { PackageError } from './errors.ts';

export interface ExtractLimits {
  /** Sum of the sizes of all files. */
  maxBytes: number;
  maxEntries: number;
  maxFileBytes: number;
  /** Path segments of one entry. */
  maxDepth: number;
}

export const DEFAULT_EXTRACT_LIMITS: ExtractLimits = {
  maxBytes: 16 * 1024 ** 3,
  maxEntries: 200_000,
  maxFileBytes: 8 * 1024 ** 3,
  maxDepth: 48,
};

export interface ExtractOptions {
  allowSymlinks: boolean;
  limits?: ExtractLimits;
  signal?: AbortSignal;
}

const KINDS = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory']);
// A PAX record whose path or linkpath holds a NUL: node-tar would cut the
// value at the NUL, so the check looks at the raw extended header.
const PAX_NUL = /(?:^|\n)\d+ (?:path|linkpath)=[^\n]*\0/;

export async function extractArchive(
  archive: string,
  dest: string,
  opts: ExtractOptions,
): Promise<{ entries: number; bytes: number }> {
  const limits = opts.limits ?? DEFAULT_EXTRACT_LIMITS;
  const gzip = await isGzip(archive);
  let entries = 0;
  let bytes = 0;
  let failure: Error | null = null;
  const symlinks = new Set<string>();
  // Directories that symlink targets pass through: a symlink created there later would redirect them.
  const walked = new Set<string>();

  const source = createReadStream(archive, { highWaterMark: 1 << 20 });
  const gunzip = gzip ? createGunzip({ chunkSize: 1 << 20 }) : null;
  // Tar blocks beyond the files' bytes: headers and padding. Anything past
  // this is a decompression bomb, even after the archive's end marker.
  const streamCap = limits.maxBytes + (limits.maxEntries + 2) * 1024 + (1 << 20);
  let streamed = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      streamed += chunk.length;
      if (streamed > streamCap)
        return cb(
          new PackageError(
            'limit',
            `the archive expands to more than ${limits.maxBytes} bytes (decompression bomb?)`,
          ),
        );
      cb(null, chunk);
    },
  });

  const refuse = (entry: ReadEntry | null, why: string, code: 'unsafe_entry' | 'limit' = 'unsafe_entry') => {
    fail(new PackageError(code, entry ? `entry ${printable(entry.path)}: ${why}` : why));
    return false;
  };

  const filter = (path: string, e: ReadEntry | Stats): boolean => {
    const entry = e as ReadEntry;
    if (failure) return false;
    if (++entries > limits.maxEntries)
      return refuse(null, `the archive has more than ${limits.maxEntries} entries`, 'limit');
    if (path.includes('\0')) return refuse(entry, 'the path holds a NUL byte');
    if (path.startsWith('/') || /^[A-Za-z]:/.test(path) || path.includes('\\'))
      return refuse(entry, 'absolute paths are not allowed in packages');
    const parts = path.split('/').filter((p) => p !== '' && p !== '.');
    if (parts.includes('..')) return refuse(entry, '".." segments are not allowed in packages');
    if (parts.length > limits.maxDepth)
      return refuse(entry, `the path is deeper than ${limits.maxDepth} levels`, 'limit');
    for (let i = 1; i <= parts.length; i++) {
      if (symlinks.has(parts.slice(0, i).join('/')) && i < parts.length)
        return refuse(entry, 'writes through a symbolic link');
    }
    if (entry.type === 'SymbolicLink') {
      if (!opts.allowSymlinks)
        return refuse(
          entry,
          `symbolic link to ${printable(String(entry.linkpath))}: the package does not set allowSymlinks`,
        );
      const link = String(entry.linkpath ?? '');
      const here = parts.join('/');
      const walk =
        link.startsWith('/') || link.includes('\0') ? null : walkInside(parts.slice(0, -1), link, symlinks);
      if (!walk || walked.has(here))
        return refuse(entry, `symbolic link to ${printable(link)} points outside the package`);
      for (const p of walk) walked.add(p);
      symlinks.add(here);
      return true;
    }
    if (entry.type === 'Link')
      return refuse(
        entry,
        `hard link to ${printable(String(entry.linkpath))}: packages may not contain hard links`,
      );
    if (!KINDS.has(entry.type)) return refuse(entry, `${entry.type} entries are not allowed in packages`);
    if (entry.size > limits.maxFileBytes)
      return refuse(
        entry,
        `${entry.size} bytes is more than the limit of ${limits.maxFileBytes} per file`,
        'limit',
      );
    bytes += entry.size;
    if (bytes > limits.maxBytes)
      return refuse(null, `the files add up to more than the limit of ${limits.maxBytes} bytes`, 'limit');
    // No setuid, setgid or sticky bits from a package.
    if (typeof entry.mode === 'number') entry.mode &= 0o777;
    return true;
  };

  const unpack = new Unpack({
    cwd: dest,
    strict: true,
    filter,
    maxDepth: limits.maxDepth,
    preserveOwner: false,
  });

  // Stops reading, then ends the parser, which closes once the writes it had
  // started are done: the caller then removes a directory nobody writes to.
  // Deferred, since the filter runs inside the parser's own write.
  function fail(err: Error) {
    if (failure) return;
    failure = err;
    setImmediate(() => {
      counter.unpipe(unpack as unknown as NodeJS.WritableStream);
      source.destroy();
      gunzip?.destroy();
      counter.destroy();
      unpack.end();
    });
  }

  const onAbort = () => fail(new PackageError('cancelled', 'the extraction was cancelled'));
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await new Promise<void>((resolve) => {
      unpack.on('meta', (meta: string) => {
        if (PAX_NUL.test(meta))
          fail(new PackageError('unsafe_entry', 'a PAX header has a path with a NUL byte'));
      });
      unpack.on('error', (err: Error) => fail(asArchiveError(err)));
      unpack.on('close', () => resolve());
      source.on('error', (err) => fail(asArchiveError(err)));
      counter.on('error', (err) => fail(err instanceof PackageError ? err : asArchiveError(err)));
      gunzip?.on('error', (err) => fail(asArchiveError(err)));
      (gunzip ? source.pipe(gunzip) : source).pipe(counter).pipe(unpack as unknown as NodeJS.WritableStream);
    });
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  if (failure) throw failure;
  if (entries === 0) throw new PackageError('bad_archive', 'the archive is empty');
  return { entries, bytes };
}

/**
 * Follows a relative link target segment by segment from the link's
 * directory; null when it climbs above the package or passes through another
 * symlink (`x -> .` makes `x/..` the package's parent). Returns the
 * directories passed through.
 */
function walkInside(from: string[], link: string, symlinks: Set<string>): string[] | null {
  const at = from.slice();
  const passed: string[] = [];
  const segments = link.split('/').filter((p) => p !== '' && p !== '.');
  for (const [i, seg] of segments.entries()) {
    if (seg === '..') {
      if (at.length === 0) return null;
      at.pop();
      continue;
    }
    at.push(seg);
    const path = at.join('/');
    if (i < segments.length - 1) {
      if (symlinks.has(path)) return null;
      passed.push(path);
    }
  }
  return passed;
}

async function isGzip(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

function asArchiveError(err: Error & { code?: string; tarCode?: string }): PackageError {
  if (err instanceof PackageError) return err;
  const why = err.code === 'Z_BUF_ERROR' ? 'the compressed data ends early (truncated archive)' : err.message;
  return new PackageError('bad_archive', `the archive is damaged or not a tar archive: ${why}`);
}

/** JSON quoting shows control characters (a NUL as \u0000) instead of printing them. */
function printable(s: string): string {
  return JSON.stringify(s.length > 200 ? `${s.slice(0, 200)}…` : s);
}
