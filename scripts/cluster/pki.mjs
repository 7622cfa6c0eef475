// Keys and tokens: the service-account signing key pair (openssl) and the static token file of the
// two users (admin in system:masters, restricted). The apiserver generates its own serving
// certificate into --cert-dir on the first start.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { ClusterError, lastLines, run, withTail } from './util.mjs';

export const ADMIN_USER = 'admin';
export const RESTRICTED_USER = 'restricted';

export async function openssl(args, what) {
  const res = await run('openssl', args);
  if (res.code !== 0)
    throw new ClusterError(
      withTail(`cannot ${what}: openssl failed`, lastLines(res.stderr, 5)),
    );
}

/** Creates the service-account signing key pair (`p.saKey`, private, mode 0600; `p.saPub`). */
export async function createServiceAccountKeys(p) {
  await openssl(
    ['genrsa', '-out', p.saKey, '2048'],
    'create the service-account key',
  );
  await openssl(
    ['rsa', '-in', p.saKey, '-pubout', '-out', p.saPub],
    'create the service-account key',
  );
  fs.chmodSync(p.saKey, 0o600);
}

/** Two new random bearer tokens: { admin, restricted } (48 hex digits each). */
export function newTokens() {
  return {
    admin: crypto.randomBytes(24).toString('hex'),
    restricted: crypto.randomBytes(24).toString('hex'),
  };
}

/** The apiserver's --token-auth-file: `token,user,uid,"groups"` for admin and restricted. */
export function tokensCsv(tokens) {
  return (
    `${tokens.admin},${ADMIN_USER},uid-${ADMIN_USER},"system:masters"\n` +
    `${tokens.restricted},${RESTRICTED_USER},uid-${RESTRICTED_USER},"kubeai:restricted"\n`
  );
}

/** Writes {@link tokensCsv} to `file` (mode 0600). */
export function writeTokensFile(file, tokens) {
  fs.writeFileSync(file, tokensCsv(tokens), { mode: 0o600 });
}

/** Whether a token file's text holds both tokens of the state. */
export function tokensFileHolds(text, tokens) {
  return (
    text.includes(`${tokens.admin},`) && text.includes(`${tokens.restricted},`)
  );
}
