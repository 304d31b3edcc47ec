// Who may call the API. Static tokens are stored only as their sha256, so a
// leaked config file leaks no credential; comparison is constant-time. GitHub
// OIDC tokens are verified with jose against the issuer's JWKS and then
// matched against allow rules on their claims. A refusal names the rule that
// failed and never echoes the token.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { createRemoteJWKSet, JWTPayload } from 'jose';

export const SCOPES = ['deploy', 'drain', 'read', 'worker'] as const;
export type Scope = (typeof SCOPES)[number];

export interface TokenRule {
  name: string;
  sha256: string;
  scopes: Scope[];
}

/** Claims an allow rule may pin; a token passes when every key of one rule equals its claim. */
export const ALLOW_CLAIMS = [
  'repository',
  'repository_id',
  'repository_owner',
  'environment',
  'ref',
  'workflow_ref',
  'event_name',
] as const;
export type AllowRule = Partial<Record<(typeof ALLOW_CLAIMS)[number], string>> & { scopes?: Scope[] };

export interface OidcSettings {
  issuer: string;
  audience: string;
  /** Default: `<issuer>/.well-known/jwks`, where GitHub serves its keys. */
  jwksUrl?: string;
  allow: AllowRule[];
}

export interface AuthSettings {
  tokens: TokenRule[];
  oidc?: OidcSettings;
}

export type AuthResult = { ok: true; principal: string } | { ok: false; status: 401 | 403; message: string };

/** What an OIDC principal may do unless its rule lists scopes: everything a workflow needs, not `worker`. */
const OIDC_DEFAULT_SCOPES: Scope[] = ['deploy', 'drain', 'read'];
/** Clock skew tolerated on exp, nbf and iat, between runner, GitHub and this machine. */
const SKEW_SECONDS = 60;
/** GitHub's tokens live 5 to 60 minutes; an older iat means a token kept around too long. */
const MAX_TOKEN_AGE_SECONDS = 60 * 60;

export function authEnabled(settings: AuthSettings): boolean {
  return settings.tokens.length > 0 || settings.oidc !== undefined;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

const refuse = (status: 401 | 403, message: string): AuthResult => ({ ok: false, status, message });

/** A JWS compact serialisation: three base64url parts, the first a JSON header. */
function looksLikeJwt(token: string): boolean {
  return /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/.test(token);
}

export class Authenticator {
  private readonly settings: AuthSettings;
  // jose is loaded with the first OIDC token, so agents on static tokens never load it.
  private jose: Promise<{
    verify: typeof import('jose').jwtVerify;
    jwks: ReturnType<typeof createRemoteJWKSet>;
  }> | null = null;
  /**
   * Records a token id (jti) until the token expires; false for one seen
   * before. A token is good for one request on any node: the ids live in the
   * store that the nodes share, and outlive a restart.
   */
  private readonly useTokenId: (jti: string, expiresAt: number) => Promise<boolean>;

  constructor(settings: AuthSettings, useTokenId: (jti: string, expiresAt: number) => Promise<boolean>) {
    this.settings = settings;
    this.useTokenId = useTokenId;
  }

  private verifier(oidc: OidcSettings) {
    this.jose ??= import('jose').then(({ createRemoteJWKSet, jwtVerify }) => ({
      verify: jwtVerify,
      jwks: createRemoteJWKSet(
        new URL(oidc.jwksUrl ?? `${oidc.issuer.replace(/\/+$/, '')}/.well-known/jwks`),
      ),
    }));
    return this.jose;
  }

  get enabled(): boolean {
    return authEnabled(this.settings);
  }

  async authorize(header: string | undefined, scope: Scope): Promise<AuthResult> {
    if (!this.enabled) return { ok: true, principal: 'anonymous (no auth configured; loopback only)' };
    const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
    if (!m) return refuse(401, 'an Authorization: Bearer <token> header is required');
    const token = m[1]!;
    if (this.settings.oidc && looksLikeJwt(token)) return this.oidc(token, scope);
    return this.staticToken(token, scope);
  }

  private staticToken(token: string, scope: Scope): AuthResult {
    const digest = Buffer.from(sha256Hex(token), 'hex');
    const rule = this.settings.tokens.find((t) => timingSafeEqual(Buffer.from(t.sha256, 'hex'), digest));
    if (!rule) return refuse(401, 'the token matches no configured token (auth.tokens)');
    if (!rule.scopes.includes(scope)) {
      return refuse(403, `token ${rule.name} lacks scope ${scope} (it has ${rule.scopes.join(', ')})`);
    }
    return { ok: true, principal: `token ${rule.name}` };
  }

  private async oidc(token: string, scope: Scope): Promise<AuthResult> {
    const oidc = this.settings.oidc!;
    let claims: JWTPayload;
    try {
      const { verify, jwks } = await this.verifier(oidc);
      ({ payload: claims } = await verify(token, jwks, {
        algorithms: ['RS256'],
        issuer: oidc.issuer,
        audience: oidc.audience,
        clockTolerance: SKEW_SECONDS,
        maxTokenAge: MAX_TOKEN_AGE_SECONDS,
        requiredClaims: ['exp', 'iat', 'jti'],
      }));
    } catch (err) {
      return refuse(401, `OIDC token refused: ${joseRule(err, oidc)}`);
    }
    // Accepted until exp plus the clock skew allowed, so remembered as long.
    if (!(await this.useTokenId(String(claims.jti), (Number(claims.exp) + SKEW_SECONDS) * 1000))) {
      return refuse(
        401,
        'OIDC token refused: rule jti: this token was already used (replay); request a new one',
      );
    }

    const mismatches: string[] = [];
    for (const [i, rule] of oidc.allow.entries()) {
      const wrong = ALLOW_CLAIMS.filter((k) => rule[k] !== undefined && String(claims[k]) !== rule[k]);
      if (wrong.length === 0) {
        const scopes = rule.scopes ?? OIDC_DEFAULT_SCOPES;
        if (!scopes.includes(scope)) {
          return refuse(
            403,
            `auth.oidc.allow[${i}] does not grant scope ${scope} (it grants ${scopes.join(', ')})`,
          );
        }
        return { ok: true, principal: `oidc ${claims.repository ?? claims.sub} (${claims.ref ?? ''})` };
      }
      mismatches.push(
        `allow[${i}]: ${wrong.map((k) => `${k} must be ${rule[k]}, token has ${claims[k] ?? '(none)'}`).join('; ')}`,
      );
    }
    return refuse(403, `OIDC token matches no auth.oidc.allow rule: ${mismatches.join(' | ')}`);
  }
}

/** Names the verification rule a jose error (known by its code) stands for. */
function joseRule(err: unknown, oidc: OidcSettings): string {
  const e = err as Error & { code?: string; claim?: string; reason?: string };
  switch (e.code) {
    case 'ERR_JWT_EXPIRED':
      return e.claim === 'iat'
        ? `rule iat: issued more than ${MAX_TOKEN_AGE_SECONDS}s ago`
        : 'rule exp: the token has expired';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
      const expected: Record<string, string> = {
        iss: `rule iss: the issuer must be ${oidc.issuer}`,
        aud: `rule aud: the audience must be ${oidc.audience}`,
        nbf: 'rule nbf: the token is not valid yet',
        iat: 'rule iat: issued in the future',
      };
      return (
        expected[e.claim ?? ''] ??
        `rule ${e.claim}: ${e.reason === 'missing' ? 'claim missing' : 'check failed'}`
      );
    }
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'rule alg: only RS256 is accepted';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'rule signature: the signature does not verify';
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return "rule kid: no key of the issuer's JWKS signed this token";
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return `rule format: ${e.message}`;
    default:
      // Anything else is the key set: unreachable, timed out, or not a JWKS.
      return `rule jwks: the issuer's keys could not be fetched (${e.message})`;
  }
}
