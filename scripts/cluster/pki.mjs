// Keys and tokens: the service-account signing key pair (openssl) and the static token file of the
// users: admin (system:masters), restricted, and the portal's own identity (no system:masters: its
// rights, impersonation included, are RBAC bindings, as a production service account's are). The
// apiserver generates its own serving certificate into --cert-dir on the first start.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { ClusterError, lastLines, run, withTail } from './util.mjs';

export const ADMIN_USER = 'admin';
export const RESTRICTED_USER = 'restricted';
/** The identity the portal uses (KUBEAI_CLUSTER_TOKEN of `cluster.mjs env`). */
export const PORTAL_USER = 'kubeai-portal';
export const PORTAL_GROUP = 'kubeai:portal';

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

const newToken = () => crypto.randomBytes(24).toString('hex');

/** New random bearer tokens: { admin, restricted, portal } (48 hex digits each). */
export function newTokens() {
  return { admin: newToken(), restricted: newToken(), portal: newToken() };
}

/**
 * Gives a state recorded before the portal had its own identity a portal token (the token file is
 * rewritten from the state before the apiserver starts). Returns whether it added one.
 */
export function ensurePortalToken(state) {
  if (state.tokens.portal) return false;
  state.tokens.portal = newToken();
  return true;
}

/** The apiserver's --token-auth-file: `token,user,uid,"groups"` for admin, restricted (and portal). */
export function tokensCsv(tokens) {
  return (
    `${tokens.admin},${ADMIN_USER},uid-${ADMIN_USER},"system:masters"\n` +
    `${tokens.restricted},${RESTRICTED_USER},uid-${RESTRICTED_USER},"kubeai:restricted"\n` +
    (tokens.portal
      ? `${tokens.portal},${PORTAL_USER},uid-${PORTAL_USER},"${PORTAL_GROUP}"\n`
      : '')
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
