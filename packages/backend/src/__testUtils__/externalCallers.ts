/*
 * Callers from outside the portal, for agents.test.ts and externalCallers.test.ts: an identity provider's JWKS endpoint with
 * the tokens it signs, and app-config keys as Backstage loads them (to test what production ships).
 */
import { ConfigSources, FileConfigSource } from '@backstage/config-loader';
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/** A JWKS endpoint of an identity provider of agents, and tokens it signs. */
export function agentIssuer() {
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = randomUUID();
  const server = http.createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        keys: [
          {
            ...keys.publicKey.export({ format: 'jwk' }),
            kid,
            alg: 'ES256',
            use: 'sig',
          },
        ],
      }),
    );
  });
  const b64 = (value: object) =>
    Buffer.from(JSON.stringify(value)).toString('base64url');
  return {
    start: () =>
      new Promise<string>(resolve =>
        server.listen(0, '127.0.0.1', () =>
          resolve(
            `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`,
          ),
        ),
      ),
    stop: () => new Promise(resolve => server.close(resolve)),
    /** A signed token; `claims` replaces the issuer or the expiry (tokens that must be refused). */
    token(
      sub: string,
      audience = 'kubeai-agents',
      claims: { iss?: string; exp?: number } = {},
    ) {
      const now = Math.floor(Date.now() / 1000);
      const input = `${b64({ alg: 'ES256', kid, typ: 'JWT' })}.${b64({
        iss: 'https://agents.example.com',
        aud: audience,
        sub,
        iat: now,
        exp: now + 600,
        ...claims,
      })}`;
      return `${input}.${sign('sha256', Buffer.from(input), {
        key: keys.privateKey,
        dsaEncoding: 'ieee-p1363',
      }).toString('base64url')}`;
    },
  };
}

/** A key of an app-config file as Backstage loads it (no environment). */
export async function fromAppConfig(file: string, key: string) {
  const config = await ConfigSources.toConfig(
    FileConfigSource.create({
      path: path.resolve(__dirname, '../../../..', file),
      watch: false,
      substitutionFunc: async () => undefined,
    }),
  );
  try {
    return config.get(key) as Record<string, any>;
  } finally {
    config.close();
  }
}
