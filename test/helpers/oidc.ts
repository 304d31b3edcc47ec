// A local OIDC issuer standing in for token.actions.githubusercontent.com:
// real RS256 JWTs signed by a key made here, its public half served as JWKS,
// and the runner's ACTIONS_ID_TOKEN_REQUEST_URL endpoint that
// core.getIDToken(audience) calls. Tests mint bad tokens with `sign`.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';

export interface LocalIssuer {
  /** The issuer URL (`iss` of its tokens). */
  issuer: string;
  jwksUrl: string;
  /** What the runner sets as ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN. */
  requestEnv: { ACTIONS_ID_TOKEN_REQUEST_URL: string; ACTIONS_ID_TOKEN_REQUEST_TOKEN: string };
  /** Claims every token carries unless `sign` overrides them (a GitHub Actions job's). */
  claims: JWTPayload & Record<string, unknown>;
  /** How many tokens the request endpoint handed out. */
  issued: number;
  sign(overrides?: Record<string, unknown>, opts?: { alg?: string; key?: SigningKey }): Promise<string>;
  /** The public key as a PEM-less JWK, for the HS256-with-public-key forgery. */
  publicJwk: Record<string, unknown>;
  close(): Promise<void>;
}

type SigningKey = Parameters<SignJWT['sign']>[0];

export const GITHUB_CLAIMS = {
  repository: 'acme/storefront',
  repository_id: '424242',
  repository_owner: 'acme',
  ref: 'refs/heads/main',
  sha: 'a'.repeat(40),
  workflow_ref: 'acme/storefront/.github/workflows/deploy.yml@refs/heads/main',
  event_name: 'push',
  environment: 'production',
  run_id: '1001',
  sub: 'repo:acme/storefront:environment:production',
};

export async function startLocalIssuer(): Promise<LocalIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomUUID();
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const requestToken = randomBytes(16).toString('hex');
  let issuer = '';

  const issuerState: LocalIssuer = {
    issuer: '',
    jwksUrl: '',
    requestEnv: { ACTIONS_ID_TOKEN_REQUEST_URL: '', ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken },
    claims: { ...GITHUB_CLAIMS },
    issued: 0,
    publicJwk,
    async sign(overrides = {}, opts = {}) {
      const now = Math.floor(Date.now() / 1000);
      const payload = {
        jti: randomUUID(),
        iss: issuer,
        aud: 'flotilla',
        iat: now,
        nbf: now - 5,
        exp: now + 300,
        ...issuerState.claims,
        ...overrides,
      };
      for (const [k, v] of Object.entries(payload))
        if (v === undefined) delete (payload as Record<string, unknown>)[k];
      const alg = opts.alg ?? 'RS256';
      return new SignJWT(payload).setProtectedHeader({ alg, kid, typ: 'JWT' }).sign(opts.key ?? privateKey);
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/.well-known/jwks') return send(200, { keys: [publicJwk] });
    if (url.pathname === '/.well-known/openid-configuration') {
      return send(200, {
        issuer,
        jwks_uri: `${issuer}/.well-known/jwks`,
        id_token_signing_alg_values_supported: ['RS256'],
      });
    }
    if (url.pathname === '/token') {
      // The runner's endpoint: needs its bearer token, answers { value }.
      if (req.headers.authorization !== `Bearer ${requestToken}`)
        return send(401, { message: 'bad request token' });
      const aud = url.searchParams.get('audience') ?? issuer;
      issuerState.issued++;
      void issuerState.sign({ aud }).then((value) => send(200, { count: 1, value }));
      return;
    }
    send(404, { message: 'not found' });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  issuerState.issuer = issuer;
  issuerState.jwksUrl = `${issuer}/.well-known/jwks`;
  issuerState.requestEnv.ACTIONS_ID_TOKEN_REQUEST_URL = `${issuer}/token?api-version=2.0`;
  return issuerState;
}
