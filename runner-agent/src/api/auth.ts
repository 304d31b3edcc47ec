// Who may call the API. Static tokens are stored only as their sha256, so a
// leaked config file leaks no credential; comparison is constant-time.
import { createHash, timingSafeEqual } from 'node:crypto';

export type Scope = 'deploy' | 'drain' | 'read' | 'worker';

export interface TokenRule {
  name: string;
  sha256: string;
  scopes: Scope[];
}

export interface AuthSettings {
  tokens: TokenRule[];
}

export type AuthResult = { ok: true; principal: string } | { ok: false; status: 401 | 403; message: string };

export function authEnabled(settings: AuthSettings): boolean {
  return settings.tokens.length > 0;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function authorize(settings: AuthSettings, header: string | undefined, scope: Scope): AuthResult {
  if (!authEnabled(settings)) return { ok: true, principal: 'anonymous (no auth configured; loopback only)' };
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  if (!m) return { ok: false, status: 401, message: 'an Authorization: Bearer <token> header is required' };
  const digest = Buffer.from(sha256Hex(m[1]!), 'hex');
  const rule = settings.tokens.find((t) => timingSafeEqual(Buffer.from(t.sha256, 'hex'), digest));
  if (!rule)
    return { ok: false, status: 401, message: 'the token matches no configured token (auth.tokens)' };
  if (!rule.scopes.includes(scope)) {
    return {
      ok: false,
      status: 403,
      message: `token ${rule.name} lacks scope ${scope} (it has ${rule.scopes.join(', ')})`,
    };
  }
  return { ok: true, principal: `token ${rule.name}` };
}
