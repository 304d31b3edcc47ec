// The SSRF guard for package URLs: only hosts in `allowedHosts`, and never a
// private, loopback or link-local address unless that address itself is
// listed. Addresses are checked where the socket connects (a custom DNS
// lookup), so a name that resolves differently the second time cannot slip
// through; each redirect goes through the same check.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { Agent } from 'undici';
import { PackageError } from './errors.ts';

const RESERVED = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  RESERVED.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['::ffff:0:0', 96],
  ['64:ff9b::', 96],
] as const)
  RESERVED.addSubnet(net, bits, 'ipv6');

const bare = (host: string) => host.replace(/^\[|\]$/g, '').toLowerCase();

export class HostGuard {
  private readonly hosts: string[];

  constructor(allowedHosts: readonly string[]) {
    this.hosts = allowedHosts.map(bare);
  }

  /** Refuses a URL that is not http(s) or whose host is not allowed. */
  checkUrl(raw: string): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new PackageError('bad_url', `package URL ${raw} is not a valid URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new PackageError('bad_url', `package URL ${url.origin} must be http or https`);
    }
    if (url.username || url.password) {
      throw new PackageError('bad_url', `package URL for ${url.hostname} must not carry credentials`);
    }
    const host = bare(url.hostname);
    if (!this.hostAllowed(host)) {
      throw new PackageError(
        'forbidden_host',
        `package host ${host} is not in packages.allowedHosts (${this.hosts.join(', ') || 'empty'})`,
      );
    }
    if (isIP(host)) this.checkAddress(host, host);
    return url;
  }

  private hostAllowed(host: string): boolean {
    return this.hosts.some((h) => h === host || (h.startsWith('*.') && host.endsWith(h.slice(1))));
  }

  /** A reserved address passes only when it is listed itself. */
  checkAddress(address: string, host: string): void {
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (RESERVED.check(address, family) && !this.hosts.includes(bare(address))) {
      throw new PackageError(
        'forbidden_address',
        `package host ${host} resolves to ${address}, a private, loopback or link-local address; ` +
          'list the address itself in packages.allowedHosts to allow it',
      );
    }
  }

  /** An undici dispatcher whose every connection goes through checkAddress. */
  dispatcher(opts: { headersTimeoutMs: number; bodyTimeoutMs: number }): Agent {
    const lookup = (
      hostname: string,
      options: { all?: boolean; family?: number },
      callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void,
    ) => {
      dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
        if (err) return callback(err, []);
        try {
          for (const a of addresses) this.checkAddress(a.address, hostname);
        } catch (e) {
          return callback(e as Error, []);
        }
        if (options.all) return callback(null, addresses);
        const first = addresses[0]!;
        callback(null, first.address, first.family);
      });
    };
    return new Agent({
      headersTimeout: opts.headersTimeoutMs,
      bodyTimeout: opts.bodyTimeoutMs,
      connect: { lookup } as never,
    });
  }
}
