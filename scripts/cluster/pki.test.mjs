// Unit tests of pki.mjs (no cluster). Run: node --test scripts/cluster/pki.test.mjs
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import {
  ADMIN_USER,
  PORTAL_GROUP,
  PORTAL_USER,
  RESTRICTED_USER,
  createServiceAccountKeys,
  ensurePortalToken,
  newTokens,
  tokensCsv,
  tokensFileHolds,
  writeTokensFile,
} from './pki.mjs';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeai-cluster-pki-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));

test('newTokens: three different 48-hex-digit tokens (admin, restricted, portal), new each time', () => {
  const a = newTokens();
  const b = newTokens();
  assert.deepEqual(Object.keys(a), ['admin', 'restricted', 'portal']);
  for (const token of Object.values(a)) assert.match(token, /^[0-9a-f]{48}$/);
  assert.equal(new Set(Object.values(a)).size, 3);
  assert.notEqual(a.admin, b.admin);
  assert.notEqual(a.portal, b.portal);
});

test('ensurePortalToken gives an earlier state a portal token, once', () => {
  const state = { tokens: { admin: 'AAA', restricted: 'RRR' } };
  assert.equal(ensurePortalToken(state), true);
  assert.match(state.tokens.portal, /^[0-9a-f]{48}$/);
  const portal = state.tokens.portal;
  assert.equal(ensurePortalToken(state), false);
  assert.equal(state.tokens.portal, portal);
  assert.deepEqual(
    [state.tokens.admin, state.tokens.restricted],
    ['AAA', 'RRR'],
  );
});

test('the token file: token,user,uid,"group" per user (admin in system:masters)', () => {
  assert.equal(ADMIN_USER, 'admin');
  assert.equal(RESTRICTED_USER, 'restricted');
  assert.equal(
    tokensCsv({ admin: 'AAA', restricted: 'RRR' }),
    'AAA,admin,uid-admin,"system:masters"\n' +
      'RRR,restricted,uid-restricted,"kubeai:restricted"\n',
  );
  // the portal's identity: its own group, not system:masters
  assert.equal(PORTAL_USER, 'kubeai-portal');
  assert.equal(PORTAL_GROUP, 'kubeai:portal');
  assert.equal(
    tokensCsv({ admin: 'AAA', restricted: 'RRR', portal: 'PPP' }),
    'AAA,admin,uid-admin,"system:masters"\n' +
      'RRR,restricted,uid-restricted,"kubeai:restricted"\n' +
      'PPP,kubeai-portal,uid-kubeai-portal,"kubeai:portal"\n',
  );
  const file = path.join(work, 'tokens.csv');
  const tokens = newTokens();
  writeTokensFile(file, tokens);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  const text = fs.readFileSync(file, 'utf8');
  assert.equal(text, tokensCsv(tokens));
  assert.equal(tokensFileHolds(text, tokens), true);
  assert.equal(tokensFileHolds(text, { ...tokens, admin: 'other' }), false);
  assert.equal(tokensFileHolds(text, { ...tokens, restricted: 'x' }), false);
});

const haveOpenssl =
  spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;

test(
  'createServiceAccountKeys: an RSA key pair, the private key 0600',
  { skip: !haveOpenssl && 'no openssl' },
  async () => {
    const p = {
      saKey: path.join(work, 'sa.key'),
      saPub: path.join(work, 'sa.pub'),
    };
    await createServiceAccountKeys(p);
    assert.equal(fs.statSync(p.saKey).mode & 0o777, 0o600);
    const priv = crypto.createPrivateKey(fs.readFileSync(p.saKey));
    const pub = crypto.createPublicKey(fs.readFileSync(p.saPub));
    assert.equal(priv.asymmetricKeyType, 'rsa');
    assert.equal(pub.asymmetricKeyDetails.modulusLength, 2048);
    const sig = crypto.sign('sha256', Buffer.from('x'), priv);
    assert.ok(crypto.verify('sha256', Buffer.from('x'), pub, sig));
  },
);
