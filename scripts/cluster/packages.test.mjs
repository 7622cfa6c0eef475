// Unit tests of packages.mjs's pure parts (no apt, no root). Run: node --test scripts/cluster/packages.test.mjs
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  APT_LOCKED,
  debSrcFromDeb822,
  debSrcFromSourcesList,
  installedFromDpkgQuery,
} from './packages.mjs';

test('installedFromDpkgQuery: only fully installed (ii) packages, without :arch', () => {
  const ok = installedFromDpkgQuery(
    'etcd-server ii \nopenssl:amd64 ii \njq rc \nmake un\n\n',
  );
  assert.deepEqual([...ok].sort(), ['etcd-server', 'openssl']);
  assert.equal(installedFromDpkgQuery('').size, 0);
});

test('debSrcFromDeb822: every Types line becomes deb-src', () => {
  const text =
    'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\n' +
    'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n' +
    'Types: deb deb-src\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\nComponents: main\n';
  const out = debSrcFromDeb822(text);
  assert.equal(out.match(/^Types: deb-src$/gm).length, 2);
  assert.doesNotMatch(out, /^Types: deb$|^Types: deb deb-src$/m);
  assert.match(out, /Signed-By: \/usr\/share\/keyrings/);
});

test('debSrcFromSourcesList: one-line deb entries → deb822 deb-src, signed-by kept', () => {
  const text = [
    '# comment',
    'deb [signed-by=/k.gpg] http://deb.debian.org/debian bookworm main contrib',
    'deb-src http://ignored bookworm main',
    '  deb http://security.debian.org/debian-security bookworm-security main  ',
  ].join('\n');
  assert.equal(
    debSrcFromSourcesList(text),
    [
      'Types: deb-src',
      'URIs: http://deb.debian.org/debian',
      'Suites: bookworm',
      'Components: main contrib',
      'Signed-By: /k.gpg',
      '',
      'Types: deb-src',
      'URIs: http://security.debian.org/debian-security',
      'Suites: bookworm-security',
      'Components: main',
    ].join('\n'),
  );
  assert.equal(debSrcFromSourcesList('# nothing\n'), '');
});

test('APT_LOCKED recognises a busy dpkg', () => {
  assert.match(
    'E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 1',
    APT_LOCKED,
  );
  assert.match('E: Unable to acquire the dpkg frontend lock', APT_LOCKED);
  assert.doesNotMatch('E: Unable to locate package nope', APT_LOCKED);
});
