// Unit tests of processes.mjs (no cluster: this process, `sleep` children, loopback sockets).
// Run: node --test scripts/cluster/processes.test.mjs
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import {
  ensureRecordedPortsFree,
  freeLoopbackPorts,
  killProcessGroup,
  loopbackPortFree,
  portHolder,
  portInUseMessage,
  processAlive,
  processLiveness,
  processesAlive,
  spawnDetached,
  withLock,
} from './processes.mjs';
import { ClusterError } from './util.mjs';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeai-cluster-proc-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));

const listen = () =>
  new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
const close = server => new Promise(r => server.close(() => r()));

test('processAlive: by pid and argv[0] name', () => {
  const self = path.basename(process.argv0);
  assert.equal(processAlive(process.pid), true);
  assert.equal(
    processAlive(process.pid, path.basename(process.execPath)),
    true,
    self,
  );
  assert.equal(processAlive(process.pid, 'etcd'), false);
  assert.equal(processAlive(0), false);
  assert.equal(processAlive(-1), false);
  assert.equal(processAlive(undefined), false);
  assert.equal(processAlive(2 ** 22 + 12345), false);
});

test('processLiveness/processesAlive read the state pids and names', () => {
  const node = path.basename(process.execPath);
  const both = {
    pids: { etcd: process.pid, apiserver: process.pid },
    processNames: { etcd: node, apiserver: node },
  };
  assert.deepEqual(processLiveness(both), { etcd: true, apiserver: true });
  assert.equal(processesAlive(both), true);
  // default names: this process is neither etcd nor kube-apiserver
  assert.deepEqual(processLiveness({ pids: both.pids }), {
    etcd: false,
    apiserver: false,
  });
  assert.deepEqual(processLiveness(null), { etcd: false, apiserver: false });
  assert.equal(processesAlive(null), false);
});

test('spawnDetached runs a process group with its log; killProcessGroup stops it', async () => {
  const log = path.join(work, 'sleep.log');
  fs.writeFileSync(log, 'the previous run');
  const pid = await spawnDetached('sleep', ['30'], log, work, {
    keepPreviousLog: true,
  });
  assert.equal(processAlive(pid, 'sleep'), true);
  assert.equal(fs.readFileSync(`${log}.prev`, 'utf8'), 'the previous run');
  await killProcessGroup(pid, 'sleep', 2000);
  assert.equal(processAlive(pid, 'sleep'), false);
  // not that name: left alone
  await killProcessGroup(process.pid, 'etcd');
  await assert.rejects(
    spawnDetached(path.join(work, 'missing'), [], log, work),
    e => e instanceof ClusterError && /cannot start missing/.test(e.message),
  );
});

test('freeLoopbackPorts gives distinct bindable ports; loopbackPortFree and portHolder see a listener', async () => {
  const ports = await freeLoopbackPorts(3);
  assert.equal(new Set(ports).size, 3);
  for (const port of ports) assert.equal(await loopbackPortFree(port), true);
  const server = await listen();
  const { port } = server.address();
  try {
    assert.equal(await loopbackPortFree(port), false);
    const holder = portHolder(port);
    if (fs.existsSync('/proc/net/tcp'))
      assert.match(holder, new RegExp(`^pid ${process.pid} \\(`));
  } finally {
    await close(server);
  }
  assert.equal(portHolder(port), null);
});

test('the port-in-use message names the holder, the port and what to do', () => {
  const msg = portInUseMessage('kube-apiserver', 6443, 'pid 42 (python3)');
  assert.match(
    msg,
    /^cannot restart kube-apiserver in place: its port 127\.0\.0\.1:6443 is in use by pid 42 \(python3\)\./,
  );
  assert.match(msg, /free port 6443 and run `start` again/);
  assert.match(msg, /`reset`/);
  assert.match(
    portInUseMessage('etcd', 1, null),
    /in use by another process\./,
  );
});

test('ensureRecordedPortsFree: passes free ports, fails naming a held one', async () => {
  const [free] = await freeLoopbackPorts(1);
  await ensureRecordedPortsFree([['etcd', free]], 0);
  const server = await listen();
  const { port } = server.address();
  try {
    await assert.rejects(
      ensureRecordedPortsFree([['kube-apiserver', port]], 300),
      e =>
        e instanceof ClusterError &&
        e.message.startsWith(
          `cannot restart kube-apiserver in place: its port 127.0.0.1:${port} is in use by pid ${process.pid}`,
        ),
    );
  } finally {
    await close(server);
  }
});

test('withLock serialises, releases on error, and takes over a stale lock', async () => {
  const lock = path.join(work, 'locks', '.lock');
  const order = [];
  const slow = withLock(lock, 'a', async () => {
    order.push('a start');
    await new Promise(r => setTimeout(r, 300));
    order.push('a end');
  });
  await new Promise(r => setTimeout(r, 50));
  const origWrite = process.stderr.write;
  process.stderr.write = () => true; // the "waiting for…" line
  try {
    await withLock(lock, 'b', async () => order.push('b'));
  } finally {
    process.stderr.write = origWrite;
  }
  await slow;
  assert.deepEqual(order, ['a start', 'a end', 'b']);
  assert.equal(fs.existsSync(lock), false);

  await assert.rejects(
    withLock(lock, 'c', async () => {
      throw new Error('inside');
    }),
    /inside/,
  );
  assert.equal(fs.existsSync(lock), false);

  fs.writeFileSync(lock, String(2 ** 22 + 12345)); // a dead holder
  assert.equal(await withLock(lock, 'd', async () => 'ran'), 'ran');
  assert.equal(fs.existsSync(lock), false);
});
