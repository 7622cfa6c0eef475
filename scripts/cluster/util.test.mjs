// Unit tests of util.mjs (no cluster). Run: node --test scripts/cluster/util.test.mjs
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import {
  ClusterError,
  isExecutable,
  lastLines,
  mapLimit,
  onInterrupt,
  run,
  runInterruptCleanups,
  shellQuote,
  tailFile,
  withTail,
} from './util.mjs';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeai-cluster-util-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));

test('lastLines keeps the last n lines without the trailing newline', () => {
  assert.deepEqual(lastLines('a\nb\nc\n', 2), ['b', 'c']);
  assert.deepEqual(lastLines('one'), ['one']);
});

test('withTail appends the log file and the indented lines', () => {
  assert.equal(withTail('failed', []), 'failed');
  assert.equal(
    withTail('failed', ['x', 'y'], '/l.log'),
    'failed (log: /l.log)\n    | x\n    | y',
  );
});

test('tailFile reads the last non-empty lines, [] for a missing file', () => {
  const file = path.join(work, 'log');
  fs.writeFileSync(
    file,
    `${Array.from({ length: 50 }, (_, i) => `line ${i}`).join('\n')}\n\n`,
  );
  assert.deepEqual(tailFile(file, 3), ['line 47', 'line 48', 'line 49']);
  assert.deepEqual(tailFile(path.join(work, 'missing')), []);
});

test('shellQuote survives single quotes', () => {
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
  assert.equal(shellQuote('https://127.0.0.1:1'), `'https://127.0.0.1:1'`);
});

test('run resolves with code and output; a missing command is a ClusterError', async () => {
  const res = await run(process.execPath, [
    '-e',
    'process.stdout.write("out"); process.stderr.write("err"); process.exit(3)',
  ]);
  assert.deepEqual(res, { code: 3, stdout: 'out', stderr: 'err' });
  const echoed = await run(
    process.execPath,
    ['-e', 'process.stdin.pipe(process.stdout)'],
    { input: 'hello' },
  );
  assert.equal(echoed.stdout, 'hello');
  await assert.rejects(
    run(path.join(work, 'no-such-command'), []),
    e => e instanceof ClusterError && /command not found/.test(e.message),
  );
});

test('mapLimit runs every item with at most `limit` at a time', async () => {
  let active = 0;
  let peak = 0;
  const seen = [];
  await mapLimit([1, 2, 3, 4, 5, 6, 7], 3, async i => {
    active++;
    peak = Math.max(peak, active);
    await new Promise(r => setTimeout(r, 5));
    seen.push(i);
    active--;
  });
  assert.equal(peak, 3);
  assert.deepEqual(
    seen.sort((a, b) => a - b),
    [1, 2, 3, 4, 5, 6, 7],
  );
  await mapLimit([], 3, async () => assert.fail('not called'));
});

test('interrupt clean-ups run until forgotten, one failing does not stop the others', () => {
  const calls = [];
  const forgetA = onInterrupt(() => calls.push('a'));
  const forgetB = onInterrupt(() => {
    throw new Error('boom');
  });
  const forgetC = onInterrupt(() => calls.push('c'));
  runInterruptCleanups();
  assert.deepEqual(calls, ['a', 'c']);
  forgetA();
  forgetB();
  runInterruptCleanups();
  assert.deepEqual(calls, ['a', 'c', 'c']);
  forgetC();
});

test('isExecutable: executable files only', () => {
  const file = path.join(work, 'x');
  fs.writeFileSync(file, '#!/bin/sh\n', { mode: 0o644 });
  assert.equal(isExecutable(file), false);
  fs.chmodSync(file, 0o755);
  assert.equal(isExecutable(file), true);
  assert.equal(isExecutable(work), false);
  assert.equal(isExecutable(path.join(work, 'missing')), false);
});
