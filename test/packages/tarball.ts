// Hand-made tar archives for tests, byte by byte, so a test can build what no
// well-behaved tar tool writes: absolute and `..` paths, links that point
// outside, NUL bytes in PAX records, archives cut short.
import { gzipSync } from 'node:zlib';

export interface TarEntry {
  name: string;
  /** '0' file, '5' directory, '2' symlink, '1' hard link, '3' character device, 'x' PAX header. */
  type?: string;
  body?: Buffer | string;
  linkname?: string;
  mode?: number;
  /** Declared size, when it should differ from the body's (headers of bombs). */
  size?: number;
  /** PAX records written in an 'x' header before this entry. */
  pax?: Record<string, string>;
}

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

export function header(e: TarEntry & { size: number }): Buffer {
  const h = Buffer.alloc(512);
  h.write(e.name.slice(0, 100), 0, 'latin1');
  h.write(octal(e.mode ?? (e.type === '5' ? 0o755 : 0o644), 8), 100);
  h.write(octal(0, 8), 108);
  h.write(octal(0, 8), 116);
  h.write(octal(e.size, 12), 124);
  h.write(octal(1_700_000_000, 12), 136);
  h.fill(' ', 148, 156);
  h.write(e.type ?? '0', 156);
  if (e.linkname) h.write(e.linkname, 157);
  h.write('ustar\x0000', 257, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

const pad = (n: number) => Buffer.alloc((512 - (n % 512)) % 512);

function paxBody(records: Record<string, string>): Buffer {
  const parts = Object.entries(records).map(([k, v]) => {
    const rest = ` ${k}=${v}\n`;
    let len = Buffer.byteLength(rest) + 1;
    while (String(len).length + Buffer.byteLength(rest) !== len) len++;
    return Buffer.from(`${len}${rest}`);
  });
  return Buffer.concat(parts);
}

/** An uncompressed tar with the two end-of-archive blocks. */
export function tarball(entries: TarEntry[]): Buffer {
  const out: Buffer[] = [];
  for (const e of entries) {
    if (e.pax) {
      const body = paxBody(e.pax);
      out.push(header({ name: 'PaxHeader', type: 'x', size: body.length }), body, pad(body.length));
    }
    const body = typeof e.body === 'string' ? Buffer.from(e.body) : (e.body ?? Buffer.alloc(0));
    out.push(header({ ...e, size: e.size ?? body.length }), body, pad(body.length));
  }
  out.push(Buffer.alloc(1024));
  return Buffer.concat(out);
}

export const tgz = (entries: TarEntry[]) => gzipSync(tarball(entries));

/** A small valid package: an index page and both hooks, which write where they ran. */
export function samplePackage(marker = 'v1'): Buffer {
  return tgz([
    { name: 'deploy/', type: '5' },
    { name: 'index.html', body: `<h1>${marker}</h1>\n` },
    { name: 'deploy/pre.sh', body: 'echo "pre $FLOTILLA_TENANT $PWD" > pre.out\n', mode: 0o755 },
    { name: 'deploy/post.sh', body: 'echo "post $FLOTILLA_INSTALL_DIR" > post.out\n', mode: 0o755 },
  ]);
}
