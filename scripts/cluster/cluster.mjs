#!/usr/bin/env node
/*
 * kubeai local control plane: a real kube-apiserver + etcd on loopback, no Docker.
 *
 *   node scripts/cluster/cluster.mjs start    obtain binaries (one-off build), start, set up RBAC + CRDs;
 *                                             with existing state whose processes died (crash, reboot),
 *                                             restart the dead one(s) in place: same data, ports, certs, tokens
 *   node scripts/cluster/cluster.mjs stop     stop both processes, remove the etcd data and state
 *   node scripts/cluster/cluster.mjs reset    the same as stop (also when the state is unusable)
 *   node scripts/cluster/cluster.mjs status   exit 0 when running, 3 when not (says which process is down)
 *   node scripts/cluster/cluster.mjs env      shell `export` lines for the portal (exit 3 when not running)
 *   node scripts/cluster/cluster.mjs obtain   only obtain/build the binaries (e.g. to pre-warm a machine)
 *
 * etcd comes from Debian's `etcd-server`; kube-apiserver v1.20.2 is built once from Debian's
 * `kubernetes` source package (with vendored reflect2 upgraded to v1.0.2, see below) and cached in
 * ${XDG_CACHE_HOME:-~/.cache}/kubeai/kube-apiserver-<source version>/kube-apiserver.
 * See ../../../shared/docs/local-control-plane.md for the measured facts behind this.
 *
 * Environment:
 *   KUBEAI_KUBE_APISERVER  use this kube-apiserver binary instead of the cached/built one
 *   KUBEAI_ETCD            use this etcd binary instead of /usr/bin/etcd
 *   KUBEAI_CRDS_CACHE      the verified CRD cache whose pinned top-level CRDs are installed (scripts/crds/crds.mjs;
 *                          default ${XDG_CACHE_HOME:-~/.cache}/kubeai/crds, filled by `yarn crds:fetch`);
 *                          when it is incomplete, the minimal CRDs in scripts/cluster/crds are installed instead
 *   KUBEAI_CRDS_DIR        local copy of the pinned CRDs (no internet); an incomplete cache is filled from it
 *                          (default: <repo>/../shared/crds when present; KUBEAI_CRDS_DIR overrides it)
 *   KUBEAI_CLUSTER_DIR     state directory (default <repo>/.kubeai/cluster)
 *   KUBEAI_DEBUG=1         stack traces on errors; keep the temporary build tree
 *
 * Node 20 ESM, node builtins + `yaml` only.
 */
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import YAML from 'yaml';
import {
  cacheDir,
  checkCache,
  fetchCrds,
  isTopLevel,
  loadSources,
} from '../crds/crds.mjs';

const SCRIPT_DIR = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(SCRIPT_DIR, '..', '..');
const FALLBACK_CRDS_DIR = path.join(SCRIPT_DIR, 'crds');

/** Debian bookworm's `kubernetes` source version, used to find a cached binary without asking apt. */
const KNOWN_SOURCE_VERSION = '1.20.5+really1.20.2-1.1+deb12u1';
const RUNTIME_PACKAGES = ['etcd-server', 'openssl'];
const BUILD_PACKAGES = [
  'golang-go',
  'rsync',
  'jq',
  'make',
  'golang-github-modern-go-reflect2-dev',
  'dpkg-dev',
];
const REFLECT2_SRC = '/usr/share/gocode/src/github.com/modern-go/reflect2';
const DEB_SRC_FILE = '/etc/apt/sources.list.d/kubeai-deb-src.sources';

const CLUSTER_NAME = 'kubeai-local';
const ADMIN_USER = 'admin';
const RESTRICTED_USER = 'restricted';
const TEAM_NAMESPACE = 'team-a';
const FIELD_MANAGER = 'kubeai-cluster';
const CRD_COLLECTION =
  '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
/** sha256 of the CRD as read from its file; lets a re-run skip CRDs that are already up to date. */
const CRD_HASH_ANNOTATION = 'kubeai.local/source-sha256';

const READY_TIMEOUT_MS = 90_000;
const ETCD_TIMEOUT_MS = 30_000;
const ESTABLISHED_TIMEOUT_MS = 60_000;

// ---------------------------------------------------------------------------------------------
// paths, state

/** Paths of the local control plane's state (honours KUBEAI_CLUSTER_DIR). */
export function clusterPaths() {
  const dir = process.env.KUBEAI_CLUSTER_DIR
    ? path.resolve(process.env.KUBEAI_CLUSTER_DIR)
    : path.join(REPO_ROOT, '.kubeai', 'cluster');
  return {
    dir,
    stateFile: path.join(dir, 'state.json'),
    kubeconfig: path.join(dir, 'kubeconfig'),
    lockFile: path.join(dir, '.lock'),
    etcdData: path.join(dir, 'etcd-data'),
    certDir: path.join(dir, 'certs'),
    caFile: path.join(dir, 'certs', 'apiserver.crt'),
    tokensFile: path.join(dir, 'tokens.csv'),
    saKey: path.join(dir, 'sa.key'),
    saPub: path.join(dir, 'sa.pub'),
    etcdLog: path.join(dir, 'etcd.log'),
    apiserverLog: path.join(dir, 'kube-apiserver.log'),
  };
}

function cacheRoot() {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'kubeai');
}

/** Parsed `.kubeai/cluster/state.json`, or null when there is none (no liveness check). */
export function readClusterState() {
  try {
    return JSON.parse(fs.readFileSync(clusterPaths().stateFile, 'utf8'));
  } catch {
    return null;
  }
}

function writeState(state) {
  const { stateFile } = clusterPaths();
  const tmp = `${stateFile}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, stateFile);
}

// ---------------------------------------------------------------------------------------------
// small helpers

export class ClusterError extends Error {}

const sleep = ms => new Promise(r => setTimeout(r, ms));
const progress = msg => process.stderr.write(`kubeai cluster: ${msg}\n`);
const isRoot = () =>
  typeof process.getuid === 'function' && process.getuid() === 0;

function rmrf(p) {
  fs.rmSync(p, { recursive: true, force: true });
}

/** Synchronous clean-ups to run when interrupted (SIGINT/SIGTERM) — finally blocks do not run then. */
const interruptCleanups = new Set();
function onInterrupt(fn) {
  interruptCleanups.add(fn);
  return () => interruptCleanups.delete(fn);
}

function run(cmd, args, { cwd, env, input, stdoutFd } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd,
      env: env ?? process.env,
      stdio: [
        input != null ? 'pipe' : 'ignore',
        stdoutFd ?? 'pipe',
        stdoutFd ?? 'pipe',
      ],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', d => {
      stdout += d;
      if (stdout.length > 4_000_000) stdout = stdout.slice(-2_000_000);
    });
    child.stderr?.on('data', d => {
      stderr += d;
      if (stderr.length > 4_000_000) stderr = stderr.slice(-2_000_000);
    });
    child.on('error', err =>
      reject(
        err.code === 'ENOENT'
          ? new ClusterError(`cannot run '${cmd}': command not found`)
          : err,
      ),
    );
    child.on('close', code => resolve({ code, stdout, stderr }));
    if (input != null) child.stdin.end(input);
  });
}

async function mapLimit(items, limit, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, worker),
  );
}

function lastLines(text, n = 15) {
  return String(text).trimEnd().split('\n').slice(-n);
}

function tailFile(file, n = 20) {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const len = Math.min(size, 16_384);
      const buf = Buffer.alloc(len);
      fs.readSync(fd, buf, 0, len, size - len);
      return lastLines(buf.toString('utf8'), n).filter(l => l.trim());
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return [];
  }
}

function withTail(message, lines, file) {
  const tail = lines.length
    ? `\n${lines.map(l => `    | ${l}`).join('\n')}`
    : '';
  return `${message}${file ? ` (log: ${file})` : ''}${tail}`;
}

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// processes

/** True when `pid` is a live (non-zombie) process whose argv[0] basename is `name`. */
function processAlive(pid, name) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline) return false; // zombie or kernel thread
    // argv[0], or argv[1] for an interpreter running a script of that name
    return (
      !name ||
      cmdline
        .split('\0')
        .slice(0, 2)
        .some(a => path.basename(a) === name)
    );
  } catch {
    if (fs.existsSync('/proc/self')) return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch (e) {
      return e.code === 'EPERM';
    }
  }
}

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* gone */
    }
  }
}

/** TERM the process group led by `pid` (only if the leader still is `name`), KILL after a grace period. */
async function killProcessGroup(pid, name, graceMs = 5000) {
  if (!processAlive(pid, name)) return;
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!processAlive(pid, name) && !groupAlive(pid)) return;
    await sleep(100);
  }
  signalGroup(pid, 'SIGKILL');
  const killDeadline = Date.now() + 5000;
  while (Date.now() < killDeadline) {
    if (!processAlive(pid, name) && !groupAlive(pid)) return;
    await sleep(100);
  }
  if (processAlive(pid, name))
    throw new ClusterError(`cannot stop ${name} (pid ${pid})`);
}

/**
 * Starts `bin` in its own process group, output to `logFile`. With `keepPreviousLog`, an existing
 * log is kept as `<logFile>.prev` (a restart keeps the log of the crash it follows).
 */
function spawnDetached(bin, args, logFile, cwd, { keepPreviousLog } = {}) {
  if (keepPreviousLog && fs.existsSync(logFile)) {
    try {
      fs.renameSync(logFile, `${logFile}.prev`);
    } catch {
      /* best effort */
    }
  }
  return new Promise((resolve, reject) => {
    const fd = fs.openSync(logFile, 'w');
    let child;
    try {
      child = spawn(bin, args, {
        cwd,
        detached: true,
        stdio: ['ignore', fd, fd],
      });
    } finally {
      fs.closeSync(fd);
    }
    child.once('error', err =>
      reject(
        new ClusterError(`cannot start ${path.basename(bin)}: ${err.message}`),
      ),
    );
    child.once('spawn', () => {
      child.unref();
      resolve(child.pid);
    });
  });
}

async function freeLoopbackPorts(n) {
  const servers = [];
  try {
    for (let i = 0; i < n; i++) {
      const server = net.createServer();
      await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
      servers.push(server);
    }
    return servers.map(s => s.address().port);
  } finally {
    await Promise.all(servers.map(s => new Promise(r => s.close(() => r()))));
  }
}

/** True when nothing listens on 127.0.0.1:`port` (we can bind it). */
function loopbackPortFree(port) {
  return new Promise(resolve => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Best effort: "pid N (name)" of the process listening on TCP `port`, from /proc; null if unknown. */
function portHolder(port) {
  try {
    const hex = port.toString(16).toUpperCase().padStart(4, '0');
    const inodes = new Set();
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      let text = '';
      try {
        text = fs.readFileSync(table, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n').slice(1)) {
        const cols = line.trim().split(/\s+/);
        // local_address is ADDR:PORT; state 0A is LISTEN; column 9 is the inode
        if (cols[1]?.endsWith(`:${hex}`) && cols[3] === '0A')
          inodes.add(cols[9]);
      }
    }
    if (!inodes.size) return null;
    for (const pid of fs.readdirSync('/proc').filter(d => /^\d+$/.test(d))) {
      let fds = [];
      try {
        fds = fs.readdirSync(`/proc/${pid}/fd`);
      } catch {
        continue; // another user's process
      }
      for (const fd of fds) {
        let link = '';
        try {
          link = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          continue;
        }
        const m = /^socket:\[(\d+)\]$/.exec(link);
        if (m && inodes.has(m[1])) {
          const comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
          return `pid ${pid} (${comm})`;
        }
      }
    }
  } catch {
    /* not Linux, or /proc unreadable */
  }
  return null;
}

/** Fails with a clear error when a port the state records is taken by another process. */
async function ensureRecordedPortsFree(ports, graceMs = 5000) {
  for (const [what, port] of ports) {
    // a process killed a moment ago may still be releasing its sockets (its threads exiting)
    const deadline = Date.now() + graceMs;
    let free = await loopbackPortFree(port);
    while (!free && Date.now() < deadline) {
      await sleep(200);
      free = await loopbackPortFree(port);
    }
    if (free) continue;
    const holder = portHolder(port);
    throw new ClusterError(
      `cannot restart ${what} in place: its port 127.0.0.1:${port} is in use by ${
        holder ?? 'another process'
      }. The control plane keeps its ports so that kubeconfigs and a running portal keep working: ` +
        `free port ${port} and run \`start\` again (or \`reset\` to delete the control plane's data and start afresh on new ports)`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// locking (concurrent `start`s, concurrent builds into the shared cache)

async function withLock(lockFile, what, fn, timeoutMs = 20 * 60_000) {
  fs.mkdirSync(path.dirname(lockFile), { recursive: true });
  const started = Date.now();
  let announced = false;
  for (;;) {
    try {
      fs.writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      let holder = NaN;
      let age = 0;
      try {
        holder = parseInt(fs.readFileSync(lockFile, 'utf8'), 10);
        age = Date.now() - fs.statSync(lockFile).mtimeMs;
      } catch {
        continue; // vanished in between
      }
      const stale = Number.isInteger(holder)
        ? !processAlive(holder)
        : age > 5000;
      if (stale) {
        try {
          fs.unlinkSync(lockFile);
        } catch {
          /* someone else removed it */
        }
        continue;
      }
      if (Date.now() - started > timeoutMs) {
        throw new ClusterError(
          `timed out waiting for ${what} held by pid ${holder} (${lockFile})`,
        );
      }
      if (!announced) {
        progress(
          `waiting for another kubeai cluster command (pid ${holder}) to finish ${what}…`,
        );
        announced = true;
      }
      await sleep(500);
    }
  }
  const release = () => {
    try {
      if (fs.readFileSync(lockFile, 'utf8') === String(process.pid))
        fs.unlinkSync(lockFile);
    } catch {
      /* already gone */
    }
  };
  const forget = onInterrupt(release);
  try {
    return await fn();
  } finally {
    forget();
    release();
  }
}

// ---------------------------------------------------------------------------------------------
// apt

function dpkgInstalled(pkgs) {
  const res = spawnSync(
    'dpkg-query',
    ['-W', '-f', '${Package} ${db:Status-Abbrev}\n', ...pkgs],
    {
      encoding: 'utf8',
    },
  );
  const ok = new Set();
  for (const line of (res.stdout || '').split('\n')) {
    const [name, status] = line.trim().split(/\s+/);
    if (name && status === 'ii') ok.add(name.replace(/:.*$/, ''));
  }
  return pkgs.filter(p => ok.has(p));
}

function rootPrefix(what) {
  if (isRoot()) return [];
  const res = spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' });
  if (res.status === 0) return ['sudo', '-n'];
  throw new ClusterError(
    `need root to ${what}: run as root, or with password-less sudo`,
  );
}

const APT_LOCKED =
  /Could not get lock|Unable to acquire the dpkg frontend lock|Unable to lock directory|is another process using it|dpkg was interrupted/i;

/** Runs apt-get as root, waiting (not fighting) while another apt/dpkg holds the locks. */
async function aptGet(args, what) {
  const prefix = rootPrefix(what);
  const full = [
    ...prefix,
    'apt-get',
    '-o',
    'DPkg::Lock::Timeout=60',
    '-o',
    'Acquire::Retries=3',
    ...args,
  ];
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const deadline = Date.now() + 20 * 60_000;
  let announced = false;
  for (;;) {
    const res = await run(full[0], full.slice(1), { env });
    if (res.code === 0) return res;
    const output = `${res.stdout}\n${res.stderr}`;
    if (
      APT_LOCKED.test(output) &&
      !/dpkg was interrupted/i.test(output) &&
      Date.now() < deadline
    ) {
      if (!announced) {
        progress(
          'apt/dpkg is busy (another install is running); waiting for its lock…',
        );
        announced = true;
      }
      await sleep(5000);
      continue;
    }
    const err = new ClusterError(
      withTail(
        `cannot ${what}: apt-get ${args.join(' ')} failed (exit ${res.code})`,
        lastLines(output, 8),
      ),
    );
    err.output = output;
    throw err;
  }
}

async function ensurePackages(pkgs) {
  let missing = pkgs.filter(p => !dpkgInstalled([p]).length);
  if (!missing.length) return;
  progress(`installing apt packages: ${missing.join(' ')}`);
  const install = () =>
    aptGet(
      ['install', '-y', '--no-install-recommends', ...missing],
      `install ${missing.join(' ')}`,
    );
  try {
    await install();
  } catch (e) {
    if (
      !/Unable to locate package|has no installation candidate/i.test(
        e.output || '',
      )
    )
      throw e;
    await aptGet(['update'], 'update the apt package lists');
    await install();
  }
  missing = pkgs.filter(p => !dpkgInstalled([p]).length);
  if (missing.length)
    throw new ClusterError(
      `apt packages still missing after install: ${missing.join(' ')}`,
    );
}

async function sourceVersionAvailable() {
  const res = await run('apt-cache', [
    'showsrc',
    '--only-source',
    'kubernetes',
  ]);
  const m = /^Version:\s*(\S+)/m.exec(res.stdout || '');
  return res.code === 0 && m ? m[1] : null;
}

function writeRootFile(file, content, what) {
  if (isRoot()) {
    fs.writeFileSync(file, content);
    return;
  }
  const prefix = rootPrefix(what);
  const res = spawnSync(prefix[0], [...prefix.slice(1), 'tee', file], {
    input: content,
    stdio: ['pipe', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  if (res.status !== 0)
    throw new ClusterError(`cannot ${what}: ${String(res.stderr).trim()}`);
}

/** Makes `apt-get source kubernetes` possible: a deb-src copy of the Debian sources, then apt-get update. */
async function ensureDebSrc() {
  if (await sourceVersionAvailable()) return;
  if (!fs.existsSync(DEB_SRC_FILE)) {
    let content;
    const deb822 = '/etc/apt/sources.list.d/debian.sources';
    if (fs.existsSync(deb822)) {
      content = fs
        .readFileSync(deb822, 'utf8')
        .replace(/^Types:.*$/gm, 'Types: deb-src');
    } else if (fs.existsSync('/etc/apt/sources.list')) {
      // one-line style → deb822
      const lines = fs
        .readFileSync('/etc/apt/sources.list', 'utf8')
        .split('\n')
        .map(l => l.trim())
        .filter(l => /^deb\s/.test(l));
      content = lines
        .map(l => {
          const parts = l.split(/\s+/).slice(1);
          const opts = parts[0]?.startsWith('[') ? parts.shift() : '';
          const [uri, suite, ...components] = parts;
          const signed = /signed-by=([^\s\]]+)/.exec(opts)?.[1];
          return [
            'Types: deb-src',
            `URIs: ${uri}`,
            `Suites: ${suite}`,
            `Components: ${components.join(' ')}`,
            ...(signed ? [`Signed-By: ${signed}`] : []),
          ].join('\n');
        })
        .join('\n\n');
    }
    if (!content) {
      throw new ClusterError(
        'cannot build kube-apiserver: no Debian apt sources found to derive a deb-src entry from',
      );
    }
    progress(`adding a deb-src entry: ${DEB_SRC_FILE}`);
    writeRootFile(
      DEB_SRC_FILE,
      `# added by kubeai scripts/cluster/cluster.mjs (apt-get source kubernetes)\n${content}`,
      'add a deb-src apt entry',
    );
  }
  progress('apt-get update (deb-src)…');
  await aptGet(['update'], 'update the apt package lists');
  if (!(await sourceVersionAvailable())) {
    throw new ClusterError(
      "cannot build kube-apiserver: Debian source package 'kubernetes' not found (is a deb-src entry reachable?)",
    );
  }
}

// ---------------------------------------------------------------------------------------------
// obtain binaries

function binaryVersion(bin) {
  const res = spawnSync(bin, ['--version'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (res.status !== 0) return null;
  return `${res.stdout}${res.stderr}`.trim().split('\n')[0];
}

function findCachedApiserver() {
  const root = cacheRoot();
  const preferred = path.join(
    root,
    `kube-apiserver-${KNOWN_SOURCE_VERSION}`,
    'kube-apiserver',
  );
  if (isExecutable(preferred))
    return { bin: preferred, sourceVersion: KNOWN_SOURCE_VERSION };
  let entries = [];
  try {
    entries = fs.readdirSync(root).filter(d => d.startsWith('kube-apiserver-'));
  } catch {
    return null;
  }
  const found = entries
    .map(d => ({
      bin: path.join(root, d, 'kube-apiserver'),
      sourceVersion: d.slice('kube-apiserver-'.length),
    }))
    .filter(c => isExecutable(c.bin))
    .sort((a, b) => fs.statSync(b.bin).mtimeMs - fs.statSync(a.bin).mtimeMs);
  return found[0] ?? null;
}

async function buildApiserver() {
  const root = cacheRoot();
  fs.mkdirSync(root, { recursive: true });
  await ensurePackages(BUILD_PACKAGES);
  await ensureDebSrc();

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeai-k8s-build-'));
  const keep = process.env.KUBEAI_DEBUG === '1';
  const forget = onInterrupt(() => keep || rmrf(tmp));
  const started = Date.now();
  try {
    const dl = path.join(tmp, 'download');
    fs.mkdirSync(dl);
    progress('downloading the Debian source package kubernetes (~34 MB)…');
    const src = await run(
      'apt-get',
      ['source', '--download-only', 'kubernetes'],
      { cwd: dl },
    );
    if (src.code !== 0) {
      const out = `${src.stdout}\n${src.stderr}`;
      if (
        /Unable to find a source package|You must put some 'deb-src'/i.test(out)
      ) {
        throw new ClusterError(
          "cannot build kube-apiserver: Debian source package 'kubernetes' not found (is a deb-src entry reachable?)",
        );
      }
      throw new ClusterError(
        withTail(
          'cannot build kube-apiserver: apt-get source kubernetes failed',
          lastLines(out, 8),
        ),
      );
    }
    const files = fs.readdirSync(dl);
    const dsc = files.find(f => /^kubernetes_.*\.dsc$/.test(f));
    const orig = files.find(f =>
      /^kubernetes_[^/]*\.orig\.tar\.(gz|xz|bz2)$/.test(f),
    );
    if (!dsc || !orig) {
      throw new ClusterError(
        `cannot build kube-apiserver: unexpected source package files: ${files.join(
          ', ',
        )}`,
      );
    }
    const sourceVersion =
      /^Version:\s*(\S+)/m
        .exec(fs.readFileSync(path.join(dl, dsc), 'utf8'))?.[1]
        .replace(/^\d+:/, '') ??
      dsc.replace(/^kubernetes_/, '').replace(/\.dsc$/, '');
    const cacheDir = path.join(root, `kube-apiserver-${sourceVersion}`);
    const cached = path.join(cacheDir, 'kube-apiserver');
    if (isExecutable(cached)) return { bin: cached, sourceVersion };

    progress(
      `building kube-apiserver from Debian source ${sourceVersion} (one-off, ~7 min)…`,
    );
    const srcRoot = path.join(tmp, 'src');
    fs.mkdirSync(srcRoot);
    const untar = await run('tar', ['-xf', path.join(dl, orig), '-C', srcRoot]);
    if (untar.code !== 0) {
      throw new ClusterError(
        withTail(
          `cannot build kube-apiserver: cannot unpack ${orig}`,
          lastLines(untar.stderr, 5),
        ),
      );
    }
    rmrf(dl);
    const top = fs.readdirSync(srcRoot);
    if (top.length !== 1)
      throw new ClusterError(
        `cannot build kube-apiserver: unexpected tarball layout in ${orig}`,
      );
    const tree = path.join(srcRoot, top[0]);

    // Go >= 1.18 + vendored reflect2 v1.0.1 => SIGSEGV on the first custom-resource create. Use v1.0.2.
    if (!fs.existsSync(path.join(REFLECT2_SRC, 'reflect2.go'))) {
      throw new ClusterError(
        `cannot build kube-apiserver: ${REFLECT2_SRC} missing (golang-github-modern-go-reflect2-dev)`,
      );
    }
    const vendored = path.join(
      tree,
      'vendor',
      'github.com',
      'modern-go',
      'reflect2',
    );
    rmrf(vendored);
    fs.cpSync(REFLECT2_SRC, vendored, { recursive: true, dereference: true });
    for (const f of ['go.mod', 'go.sum']) rmrf(path.join(vendored, f));

    // As debian/rules does: a GOPATH whose src/k8s.io/kubernetes is the tree; GOPATH mode; no cgo.
    const gopath = path.join(tmp, 'gopath');
    fs.mkdirSync(path.join(gopath, 'src', 'k8s.io'), { recursive: true });
    const linked = path.join(gopath, 'src', 'k8s.io', 'kubernetes');
    fs.symlinkSync(tree, linked);

    fs.mkdirSync(cacheDir, { recursive: true });
    const logFile = path.join(root, `build-${sourceVersion}.log`);
    const logFd = fs.openSync(logFile, 'w');
    const ticker = setInterval(() => {
      progress(
        `still building kube-apiserver… ${Math.round(
          (Date.now() - started) / 60_000,
        )} min`,
      );
    }, 60_000);
    let res;
    try {
      res = await run('make', ['WHAT=cmd/kube-apiserver'], {
        cwd: linked,
        stdoutFd: logFd,
        env: {
          ...process.env,
          GOPATH: gopath,
          GO111MODULE: 'off',
          CGO_ENABLED: '0',
          GOFLAGS: '',
          GOTOOLCHAIN: 'local',
          PATH: `/usr/lib/go/bin:${process.env.PATH}`,
        },
      });
    } finally {
      clearInterval(ticker);
      fs.closeSync(logFd);
    }
    if (res.code !== 0) {
      throw new ClusterError(
        withTail(
          `cannot build kube-apiserver: make exited with ${res.code}`,
          tailFile(logFile, 12),
          logFile,
        ),
      );
    }
    const built = fs.realpathSync(
      path.join(tree, '_output', 'bin', 'kube-apiserver'),
    );
    const version = binaryVersion(built);
    if (!version)
      throw new ClusterError(
        `cannot build kube-apiserver: the built binary does not run (${built})`,
      );
    const tmpBin = path.join(cacheDir, `.kube-apiserver.${process.pid}.tmp`);
    fs.copyFileSync(built, tmpBin);
    fs.chmodSync(tmpBin, 0o755);
    fs.renameSync(tmpBin, cached);
    fs.writeFileSync(
      path.join(cacheDir, 'SOURCE.txt'),
      [
        `kube-apiserver: ${version}`,
        `built from: Debian source package kubernetes ${sourceVersion} (${orig})`,
        'patched: vendor/github.com/modern-go/reflect2 replaced by Debian golang-github-modern-go-reflect2-dev',
        `go: ${spawnSync('go', ['version'], {
          encoding: 'utf8',
        }).stdout?.trim()}`,
        `built at: ${new Date().toISOString()} in ${Math.round(
          (Date.now() - started) / 1000,
        )} s`,
        'build: GO111MODULE=off CGO_ENABLED=0 make WHAT=cmd/kube-apiserver',
        '',
      ].join('\n'),
    );
    progress(
      `built ${version} in ${Math.round(
        (Date.now() - started) / 1000,
      )} s → ${cached}`,
    );
    return { bin: cached, sourceVersion };
  } finally {
    forget();
    if (keep) progress(`KUBEAI_DEBUG=1: keeping the build tree ${tmp}`);
    else rmrf(tmp);
  }
}

/** Path + version of a usable kube-apiserver: $KUBEAI_KUBE_APISERVER, the cache, or a one-off build. */
export async function obtainApiserver() {
  const override = process.env.KUBEAI_KUBE_APISERVER;
  if (override) {
    const bin = path.resolve(override);
    if (!isExecutable(bin))
      throw new ClusterError(
        `KUBEAI_KUBE_APISERVER=${override} is not an executable file`,
      );
    const version = binaryVersion(bin);
    if (!version)
      throw new ClusterError(
        `KUBEAI_KUBE_APISERVER=${override} does not run (--version failed)`,
      );
    return { bin, sourceVersion: null, version };
  }
  let found = findCachedApiserver();
  if (found) {
    const version = binaryVersion(found.bin);
    if (version) return { ...found, version };
    progress(`cached ${found.bin} does not run; rebuilding`);
    rmrf(path.dirname(found.bin));
  }
  found = await withLock(
    path.join(cacheRoot(), '.build.lock'),
    'building kube-apiserver',
    async () => findCachedApiserver() ?? buildApiserver(),
  );
  const version = binaryVersion(found.bin);
  if (!version)
    throw new ClusterError(`${found.bin} does not run (--version failed)`);
  return { ...found, version };
}

export async function obtainEtcd() {
  const override = process.env.KUBEAI_ETCD;
  if (override) {
    if (!isExecutable(override))
      throw new ClusterError(
        `KUBEAI_ETCD=${override} is not an executable file`,
      );
  } else {
    await ensurePackages(RUNTIME_PACKAGES);
  }
  const bin = override ? path.resolve(override) : '/usr/bin/etcd';
  if (!isExecutable(bin))
    throw new ClusterError(
      `etcd not found at ${bin} (apt package etcd-server)`,
    );
  const version = binaryVersion(bin);
  return { bin, version: version ?? 'unknown' };
}

// ---------------------------------------------------------------------------------------------
// HTTP to the apiserver / etcd

function caFor(state) {
  try {
    return state?.caFile ? fs.readFileSync(state.caFile) : null;
  } catch {
    return null;
  }
}

/**
 * One request to the apiserver. Returns { status, body } (body parsed as JSON when possible).
 * Verifies TLS with the apiserver's generated CA when it exists.
 */
function kubeRequest(
  state,
  method,
  urlPath,
  body,
  {
    token,
    contentType = 'application/json',
    accept = 'application/json',
    timeoutMs = 60_000,
  } = {},
) {
  const url = new URL(urlPath, state.server);
  const payload =
    body == null
      ? null
      : typeof body === 'string'
      ? body
      : JSON.stringify(body);
  const ca = caFor(state);
  const headers = { Accept: accept };
  const bearer = token === undefined ? state.tokens?.admin : token;
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (payload != null) {
    headers['Content-Type'] = contentType;
    headers['Content-Length'] = Buffer.byteLength(payload);
  }
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method,
        headers,
        ...(ca ? { ca } : { rejectUnauthorized: false }),
        timeout: timeoutMs,
      },
      res => {
        const chunks = [];
        res.on('data', c => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            /* plain text (e.g. /readyz) */
          }
          resolve({ status: res.statusCode, body: parsed });
        });
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`timeout after ${timeoutMs} ms`)),
    );
    req.on('error', reject);
    if (payload != null) req.write(payload);
    req.end();
  });
}

async function kube(state, method, urlPath, body, opts) {
  let res;
  try {
    res = await kubeRequest(state, method, urlPath, body, opts);
  } catch (e) {
    throw new ClusterError(`${method} ${urlPath}: ${e.message}`);
  }
  return res;
}

function apiMessage(res) {
  return typeof res.body === 'object' && res.body?.message
    ? res.body.message
    : String(res.body).slice(0, 300);
}

async function isReady(state) {
  try {
    const res = await kubeRequest(state, 'GET', '/readyz', null, {
      timeoutMs: 3000,
    });
    return res.status === 200;
  } catch {
    return false;
  }
}

function httpGet(url, timeoutMs = 2000) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, res => {
      const chunks = [];
      res.on('data', c => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

// ---------------------------------------------------------------------------------------------
// running state

/** Which of the state's processes are alive (by PID and process name). */
function processLiveness(state) {
  return {
    etcd:
      !!state &&
      processAlive(state.pids?.etcd, state.processNames?.etcd ?? 'etcd'),
    apiserver:
      !!state &&
      processAlive(
        state.pids?.apiserver,
        state.processNames?.apiserver ?? 'kube-apiserver',
      ),
  };
}

function processesAlive(state) {
  const live = processLiveness(state);
  return live.etcd && live.apiserver;
}

/**
 * { state, running, alive, etcdAlive, apiserverAlive } — running means both PIDs alive and
 * /readyz answers 200; alive means both PIDs alive.
 */
export async function clusterStatus() {
  const state = readClusterState();
  if (!state)
    return {
      state: null,
      running: false,
      alive: false,
      etcdAlive: false,
      apiserverAlive: false,
    };
  const live = processLiveness(state);
  const alive = live.etcd && live.apiserver;
  const running = alive && (await isReady(state));
  return {
    state,
    running,
    alive,
    etcdAlive: live.etcd,
    apiserverAlive: live.apiserver,
  };
}

/** Kills both processes and deletes all data (only `stop`, `reset` and a failed first start do this). */
async function killAndClean(state) {
  const p = clusterPaths();
  if (state) {
    await killProcessGroup(
      state.pids?.apiserver,
      state.processNames?.apiserver ?? 'kube-apiserver',
    );
    await killProcessGroup(
      state.pids?.etcd,
      state.processNames?.etcd ?? 'etcd',
    );
  }
  for (const f of [
    p.etcdData,
    p.stateFile,
    p.kubeconfig,
    p.tokensFile,
    p.saKey,
    p.saPub,
    p.certDir,
  ])
    rmrf(f);
}

// ---------------------------------------------------------------------------------------------
// setup inside the cluster: kubeconfig, namespace, RBAC, CRDs

function writeKubeconfig(state) {
  const p = clusterPaths();
  const ca = caFor(state);
  const cluster = { server: state.server };
  if (ca) cluster['certificate-authority-data'] = ca.toString('base64');
  else cluster['insecure-skip-tls-verify'] = true;
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: CLUSTER_NAME, cluster }],
    users: [
      { name: 'kubeai-admin', user: { token: state.tokens.admin } },
      { name: 'kubeai-restricted', user: { token: state.tokens.restricted } },
    ],
    contexts: [
      {
        name: 'kubeai-admin',
        context: { cluster: CLUSTER_NAME, user: 'kubeai-admin' },
      },
      {
        name: 'kubeai-restricted',
        context: { cluster: CLUSTER_NAME, user: 'kubeai-restricted' },
      },
    ],
    'current-context': 'kubeai-admin',
    preferences: {},
  };
  const tmp = `${p.kubeconfig}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, YAML.stringify(config), { mode: 0o600 });
  fs.renameSync(tmp, p.kubeconfig);
  return p.kubeconfig;
}

/** POST; on 409 replace it (PUT with the current resourceVersion). Returns 'created' | 'updated' | 'kept'. */
async function createOrReplace(
  state,
  collectionPath,
  obj,
  { replace = true } = {},
) {
  const name = obj.metadata.name;
  const created = await kube(
    state,
    'POST',
    `${collectionPath}?fieldManager=${FIELD_MANAGER}`,
    obj,
  );
  if (created.status === 201 || created.status === 200) return 'created';
  if (created.status !== 409) {
    throw new ClusterError(
      `cannot create ${obj.kind} ${name}: HTTP ${created.status}: ${apiMessage(
        created,
      )}`,
    );
  }
  if (!replace) return 'kept';
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await kube(state, 'GET', `${collectionPath}/${name}`);
    if (current.status !== 200) {
      throw new ClusterError(
        `cannot read ${obj.kind} ${name}: HTTP ${current.status}: ${apiMessage(
          current,
        )}`,
      );
    }
    const next = {
      ...obj,
      metadata: {
        ...obj.metadata,
        resourceVersion: current.body.metadata.resourceVersion,
      },
    };
    const put = await kube(
      state,
      'PUT',
      `${collectionPath}/${name}?fieldManager=${FIELD_MANAGER}`,
      next,
    );
    if (put.status === 200 || put.status === 201) return 'updated';
    if (put.status === 409) continue;
    const err = new ClusterError(
      `cannot update ${obj.kind} ${name}: HTTP ${put.status}: ${apiMessage(
        put,
      )}`,
    );
    err.status = put.status;
    throw err;
  }
  throw new ClusterError(
    `cannot update ${obj.kind} ${name}: repeated conflicts`,
  );
}

async function ensureRbac(state) {
  await createOrReplace(
    state,
    '/api/v1/namespaces',
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: TEAM_NAMESPACE } },
    { replace: false },
  );
  const labels = { 'app.kubernetes.io/managed-by': FIELD_MANAGER };
  const rbac = '/apis/rbac.authorization.k8s.io/v1';
  await createOrReplace(state, `${rbac}/clusterroles`, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'kubeai:read-all', labels },
    rules: [
      { apiGroups: ['*'], resources: ['*'], verbs: ['get', 'list', 'watch'] },
      { nonResourceURLs: ['*'], verbs: ['get'] },
    ],
  });
  await createOrReplace(state, `${rbac}/clusterrolebindings`, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'kubeai:restricted-read-all', labels },
    roleRef: {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'kubeai:read-all',
    },
    subjects: [
      {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'User',
        name: RESTRICTED_USER,
      },
    ],
  });
  await createOrReplace(state, `${rbac}/namespaces/${TEAM_NAMESPACE}/roles`, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'kubeai:team-edit', namespace: TEAM_NAMESPACE, labels },
    rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }],
  });
  await createOrReplace(
    state,
    `${rbac}/namespaces/${TEAM_NAMESPACE}/rolebindings`,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: {
        name: 'kubeai:restricted-team-edit',
        namespace: TEAM_NAMESPACE,
        labels,
      },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'Role',
        name: 'kubeai:team-edit',
      },
      subjects: [
        {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'User',
          name: RESTRICTED_USER,
        },
      ],
    },
  );
}

function listYaml(dir) {
  try {
    if (!fs.statSync(dir).isDirectory()) return [];
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter(e => e.isFile() && /\.ya?ml$/.test(e.name))
      .map(e => path.join(dir, e.name))
      .sort();
  } catch {
    return [];
  }
}

/**
 * The CRD files to install: the top-level set of the pinned upstream CRDs (scripts/crds/sources.json) from the
 * verified CRD cache when every one is there with its SHA-256 (an incomplete cache is first filled from a local copy,
 * KUBEAI_CRDS_DIR, by `crds.mjs fetch --offline`); else the project's minimal CRDs in scripts/cluster/crds.
 * Cache location and checks follow scripts/crds/crds.mjs.
 */
export async function resolveCrdFiles() {
  const cache = cacheDir();
  const pinned = loadSources().filter(isTopLevel);
  let { missing, bad } = checkCache({ cache, entries: pinned });
  if (missing.length + bad.length) {
    // Copies from a local copy of the pinned files when there is one; never downloads here.
    await fetchCrds({ cache, entries: pinned, offline: true }).catch(() => {});
    ({ missing, bad } = checkCache({ cache, entries: pinned }));
  }
  const unverified = missing.length + bad.length;
  if (!unverified) {
    progress(
      `installing the ${pinned.length} pinned upstream CRDs from the verified cache ${cache}`,
    );
    return {
      dir: cache,
      files: pinned.map(e => path.join(cache, e.file)).sort(),
      fallback: false,
    };
  }
  return {
    dir: FALLBACK_CRDS_DIR,
    files: listYaml(FALLBACK_CRDS_DIR),
    fallback: true,
    requested: `the CRD cache ${cache} (${unverified} of ${pinned.length} pinned top-level files missing or changed; run 'yarn crds:fetch', or set KUBEAI_CRDS_DIR=/path/to/crds without internet access)`,
  };
}

function readCrds(files) {
  const crds = [];
  for (const file of files) {
    let docs;
    try {
      docs = YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      throw new ClusterError(`cannot read ${file}: ${e.message}`);
    }
    if (!Array.isArray(docs)) docs = [docs];
    for (const doc of docs) {
      if (doc.errors?.length)
        throw new ClusterError(
          `cannot parse ${file}: ${doc.errors[0].message.split('\n')[0]}`,
        );
      const obj = doc.toJS({ maxAliasCount: -1 });
      if (obj == null) continue;
      if (
        obj.kind !== 'CustomResourceDefinition' ||
        !/^apiextensions\.k8s\.io\//.test(obj.apiVersion ?? '')
      ) {
        progress(
          `skipping ${obj.kind ?? 'a document'} in ${path.basename(
            file,
          )} (not a CustomResourceDefinition)`,
        );
        continue;
      }
      crds.push({ file, obj });
    }
  }
  return crds;
}

async function waitEstablished(state, names) {
  const pending = new Set(names);
  const deadline = Date.now() + ESTABLISHED_TIMEOUT_MS;
  for (;;) {
    const res = await kube(state, 'GET', CRD_COLLECTION);
    if (res.status !== 200)
      throw new ClusterError(
        `cannot list CRDs: HTTP ${res.status}: ${apiMessage(res)}`,
      );
    const byName = new Map(
      (res.body.items ?? []).map(c => [c.metadata.name, c]),
    );
    for (const name of [...pending]) {
      const conds = byName.get(name)?.status?.conditions ?? [];
      if (conds.some(c => c.type === 'Established' && c.status === 'True'))
        pending.delete(name);
    }
    if (!pending.size) return;
    if (Date.now() > deadline) {
      const name = [...pending][0];
      const conds = byName.get(name)?.status?.conditions ?? [];
      const why = conds
        .filter(c => c.status !== 'True')
        .map(c => `${c.type}: ${c.message}`)
        .join('; ');
      throw new ClusterError(
        `CRD ${name} did not become Established within ${
          ESTABLISHED_TIMEOUT_MS / 1000
        }s${why ? ` (${why})` : ''}`,
      );
    }
    await sleep(200);
  }
}

/** name → value of the source-hash annotation, for all installed CRDs (metadata only). */
async function installedCrdHashes(state) {
  const res = await kube(state, 'GET', CRD_COLLECTION, null, {
    accept: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1',
  });
  if (res.status !== 200)
    throw new ClusterError(
      `cannot list CRDs: HTTP ${res.status}: ${apiMessage(res)}`,
    );
  return new Map(
    (res.body.items ?? []).map(m => [
      m.metadata.name,
      m.metadata.annotations?.[CRD_HASH_ANNOTATION],
    ]),
  );
}

async function ensureCrds(state) {
  const { dir, files, fallback, requested } = await resolveCrdFiles();
  if (fallback) {
    progress(
      `no CRDs in ${requested}; installing the minimal fallback CRDs from ${path.relative(
        REPO_ROOT,
        dir,
      )}`,
    );
  }
  const crds = readCrds(files);
  const installed = await installedCrdHashes(state);
  const counts = { created: 0, updated: 0, kept: 0, unchanged: 0 };
  // A few at a time: each create makes the apiserver rebuild its OpenAPI document.
  await mapLimit(crds, 3, async ({ file, obj }) => {
    const { status: _status, ...crd } = obj;
    crd.metadata = { ...crd.metadata };
    delete crd.metadata.creationTimestamp;
    delete crd.metadata.resourceVersion;
    const hash = crypto
      .createHash('sha256')
      .update(JSON.stringify(crd))
      .digest('hex');
    crd.metadata.annotations = {
      ...crd.metadata.annotations,
      [CRD_HASH_ANNOTATION]: hash,
    };
    if (installed.get(crd.metadata.name) === hash) {
      counts.unchanged++;
      return;
    }
    try {
      counts[await createOrReplace(state, CRD_COLLECTION, crd)]++;
    } catch (e) {
      if (e instanceof ClusterError && e.status === 422) {
        // Present but not updatable to this definition (e.g. a stored version would be dropped): keep it.
        progress(
          `warning: kept the existing CRD ${crd.metadata.name}: ${e.message}`,
        );
        counts.kept++;
      } else {
        throw new ClusterError(`${e.message} (from ${path.basename(file)})`);
      }
    }
  });
  await waitEstablished(
    state,
    crds.map(c => c.obj.metadata.name),
  );
  state.crdsDir = dir;
  state.crds = crds.map(c => c.obj.metadata.name);
  return { dir, fallback, count: crds.length, ...counts };
}

async function ensureSetup(state) {
  const kubeconfig = writeKubeconfig(state);
  await ensureRbac(state);
  const crds = await ensureCrds(state);
  writeState(state);
  progress(
    `CRDs: ${crds.count} from ${
      crds.fallback ? path.relative(REPO_ROOT, crds.dir) : crds.dir
    } Established ` +
      `(${crds.created} created, ${crds.updated} updated, ${
        crds.unchanged
      } unchanged${crds.kept ? `, ${crds.kept} kept` : ''}); ` +
      `namespace ${TEAM_NAMESPACE} + RBAC for user '${RESTRICTED_USER}' ensured`,
  );
  return kubeconfig;
}

// ---------------------------------------------------------------------------------------------
// commands

async function waitForEtcd(port, pid, logFile) {
  const deadline = Date.now() + ETCD_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!processAlive(pid, 'etcd') && !processAlive(pid)) {
      throw new ClusterError(
        withTail('etcd exited during start-up', tailFile(logFile), logFile),
      );
    }
    try {
      const res = await httpGet(`http://127.0.0.1:${port}/health`);
      if (res.status === 200 && /"health"\s*:\s*"true"/.test(res.body)) return;
    } catch {
      /* not listening yet */
    }
    await sleep(100);
  }
  throw new ClusterError(
    withTail(
      `etcd did not become healthy within ${ETCD_TIMEOUT_MS / 1000}s`,
      tailFile(logFile),
      logFile,
    ),
  );
}

async function waitForApiserver(state, logFile) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!processAlive(state.pids.apiserver, state.processNames.apiserver)) {
      throw new ClusterError(
        withTail(
          'kube-apiserver exited during start-up',
          tailFile(logFile),
          logFile,
        ),
      );
    }
    if (!processAlive(state.pids.etcd, state.processNames.etcd)) {
      throw new ClusterError(
        withTail(
          'etcd exited during start-up',
          tailFile(clusterPaths().etcdLog),
          clusterPaths().etcdLog,
        ),
      );
    }
    if (await isReady(state)) return;
    await sleep(250);
  }
  throw new ClusterError(
    withTail(
      `kube-apiserver did not answer /readyz within ${
        READY_TIMEOUT_MS / 1000
      }s`,
      tailFile(logFile),
      logFile,
    ),
  );
}

async function openssl(args, what) {
  const res = await run('openssl', args);
  if (res.code !== 0)
    throw new ClusterError(
      withTail(`cannot ${what}: openssl failed`, lastLines(res.stderr, 5)),
    );
}

// ---------------------------------------------------------------------------------------------
// the processes' arguments (one builder each: first start, restart in place, restartApiserver)

/**
 * etcd's arguments for the state's ports and the data directory. The same for a first start and a
 * restart: with an existing data directory etcd ignores the `--initial-*` flags and replays it.
 */
function etcdArgs(state, p) {
  const { etcdClient, etcdPeer } = state.ports;
  return [
    '--name=kubeai',
    `--data-dir=${p.etcdData}`,
    `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
    `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
    `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
    `--initial-cluster=kubeai=http://127.0.0.1:${etcdPeer}`,
    '--initial-cluster-state=new',
    '--logger=zap',
    '--log-outputs=stderr',
  ];
}

/**
 * kube-apiserver's arguments: the state's etcd and port, the certificates (generated into
 * --cert-dir on the first start, reused afterwards), service-account keys and tokens.
 */
function apiserverArgs(state, p) {
  return [
    `--etcd-servers=http://127.0.0.1:${state.ports.etcdClient}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${state.ports.apiserver}`,
    `--cert-dir=${p.certDir}`,
    `--service-account-key-file=${p.saPub}`,
    `--service-account-signing-key-file=${p.saKey}`,
    '--service-account-issuer=https://kubernetes.default.svc',
    `--token-auth-file=${p.tokensFile}`,
    '--authorization-mode=RBAC',
    '--service-cluster-ip-range=10.96.0.0/16',
    // No controller-manager runs: there are no service-account tokens to mount into Pods, and the
    // endpoints of the `kubernetes` Service cannot hold a loopback address.
    '--disable-admission-plugins=ServiceAccount',
    '--endpoint-reconciler-type=none',
    '--profiling=false',
  ];
}

function spawnEtcd(state, p, bin, opts) {
  return spawnDetached(bin, etcdArgs(state, p), p.etcdLog, p.dir, opts);
}

function spawnApiserver(state, p, bin, opts) {
  return spawnDetached(
    bin,
    apiserverArgs(state, p),
    p.apiserverLog,
    p.dir,
    opts,
  );
}

// ---------------------------------------------------------------------------------------------
// start, restart in place, stop, reset

const RESET_HINT =
  'run `node scripts/cluster/cluster.mjs reset` to delete it (every object in the cluster) and `start` afresh';

/**
 * Why the state cannot be restarted in place (a missing or inconsistent piece), or null. Checked
 * before anything is started, so that nothing runs with half of the state.
 */
function unusableState(state, p) {
  const ports = state.ports ?? {};
  for (const name of ['apiserver', 'etcdClient', 'etcdPeer']) {
    if (!Number.isInteger(ports[name]) || ports[name] <= 0)
      return `state.json records no ${name} port`;
  }
  if (state.server !== `https://127.0.0.1:${ports.apiserver}`)
    return `state.json's server ${state.server} does not match its apiserver port ${ports.apiserver}`;
  if (!state.tokens?.admin || !state.tokens?.restricted)
    return 'state.json records no tokens';
  const files = [
    [path.join(p.etcdData, 'member'), 'the etcd data'],
    [path.join(p.certDir, 'apiserver.crt'), "the apiserver's certificate"],
    [path.join(p.certDir, 'apiserver.key'), "the apiserver's key"],
    [p.saKey, 'the service-account signing key'],
    [p.saPub, 'the service-account public key'],
    [p.tokensFile, 'the token file'],
  ];
  for (const [file, what] of files) {
    if (!fs.existsSync(file)) return `${what} is missing (${file})`;
  }
  const tokens = fs.readFileSync(p.tokensFile, 'utf8');
  if (
    !tokens.includes(`${state.tokens.admin},`) ||
    !tokens.includes(`${state.tokens.restricted},`)
  )
    return `${p.tokensFile} does not hold the tokens of state.json`;
  return null;
}

async function etcdHealthy(port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  do {
    try {
      const res = await httpGet(`http://127.0.0.1:${port}/health`);
      if (res.status === 200 && /"health"\s*:\s*"true"/.test(res.body))
        return true;
    } catch {
      /* not answering */
    }
    await sleep(200);
  } while (Date.now() < deadline);
  return false;
}

/** Waits up to `timeoutMs` for a running apiserver's /readyz; false when it exits or stays unready. */
async function becomesReady(state, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  do {
    if (!processAlive(state.pids.apiserver, state.processNames.apiserver))
      return false;
    if (await isReady(state)) return true;
    await sleep(250);
  } while (Date.now() < deadline);
  return false;
}

/** A first start: new data, certificates, keys, tokens and free ports. */
async function startFresh(p) {
  const etcd = await obtainEtcd();
  const apiserver = await obtainApiserver();
  const tStart = Date.now();

  for (const f of [p.etcdData, p.certDir]) rmrf(f);
  fs.mkdirSync(p.certDir, { recursive: true, mode: 0o700 });

  // service-account signing key pair
  await openssl(
    ['genrsa', '-out', p.saKey, '2048'],
    'create the service-account key',
  );
  await openssl(
    ['rsa', '-in', p.saKey, '-pubout', '-out', p.saPub],
    'create the service-account key',
  );
  fs.chmodSync(p.saKey, 0o600);

  const tokens = {
    admin: crypto.randomBytes(24).toString('hex'),
    restricted: crypto.randomBytes(24).toString('hex'),
  };
  fs.writeFileSync(
    p.tokensFile,
    `${tokens.admin},${ADMIN_USER},uid-${ADMIN_USER},"system:masters"\n` +
      `${tokens.restricted},${RESTRICTED_USER},uid-${RESTRICTED_USER},"kubeai:restricted"\n`,
    { mode: 0o600 },
  );

  const [etcdClient, etcdPeer, apiPort] = await freeLoopbackPorts(3);
  const state = {
    schemaVersion: 1,
    server: `https://127.0.0.1:${apiPort}`,
    ports: { apiserver: apiPort, etcdClient, etcdPeer },
    pids: {},
    processNames: {
      etcd: path.basename(etcd.bin),
      apiserver: path.basename(apiserver.bin),
    },
    tokens,
    users: { admin: ADMIN_USER, restricted: RESTRICTED_USER },
    namespace: TEAM_NAMESPACE,
    kubeconfig: p.kubeconfig,
    caFile: p.caFile,
    stateDir: p.dir,
    binaries: {
      etcd: etcd.bin,
      etcdVersion: etcd.version,
      apiserver: apiserver.bin,
      apiserverVersion: apiserver.version,
      apiserverSourceVersion: apiserver.sourceVersion,
    },
    startedAt: new Date().toISOString(),
  };

  const abort = () => {
    for (const [name, pid] of Object.entries(state.pids)) {
      if (processAlive(pid, state.processNames[name]))
        signalGroup(pid, 'SIGKILL');
    }
  };
  const forget = onInterrupt(abort);
  try {
    state.pids.etcd = await spawnEtcd(state, p, etcd.bin);
    writeState(state);
    await waitForEtcd(etcdClient, state.pids.etcd, p.etcdLog);

    state.pids.apiserver = await spawnApiserver(state, p, apiserver.bin);
    writeState(state);
    await waitForApiserver(state, p.apiserverLog);
    state.readyAt = new Date().toISOString();
    state.startSeconds = Math.round((Date.now() - tStart) / 100) / 10;
    // from now on the state is restarted in place, never wiped, by `start`
    writeState(state);
    const kubeconfig = await ensureSetup(state);
    state.totalStartSeconds = Math.round((Date.now() - tStart) / 100) / 10;
    writeState(state);
    return { state, kubeconfig, alreadyRunning: false };
  } catch (e) {
    abort();
    await killAndClean(state).catch(() => {});
    throw e;
  } finally {
    forget();
  }
}

/**
 * Restarts the dead process(es) of an existing control plane on its data, certificates, keys,
 * tokens and ports, so that its objects, URL, tokens and kubeconfig stay valid. Never deletes
 * anything: an unusable state is reported with the advice to `reset`.
 */
async function restartInPlace(state, p) {
  const tStart = Date.now();
  const problem = unusableState(state, p);
  if (problem) {
    throw new ClusterError(
      `cannot restart the control plane in place: ${problem}. Its data is kept in ${p.dir}; ${RESET_HINT}`,
    );
  }
  state.processNames = {
    etcd: state.processNames?.etcd ?? 'etcd',
    apiserver: state.processNames?.apiserver ?? 'kube-apiserver',
  };
  state.pids = { ...state.pids };
  state.binaries = { ...state.binaries };
  const restarted = [];
  const spawned = []; // [pid, name] of what this attempt started
  const abort = () => {
    for (const [pid, name] of spawned)
      if (processAlive(pid, name)) signalGroup(pid, 'SIGKILL');
  };
  const forget = onInterrupt(abort);
  try {
    // etcd: only when it died (or runs without answering)
    let etcdUp = processAlive(state.pids.etcd, state.processNames.etcd);
    if (etcdUp && !(await etcdHealthy(state.ports.etcdClient, 5000))) {
      progress(`etcd (pid ${state.pids.etcd}) does not answer; restarting it`);
      await killProcessGroup(state.pids.etcd, state.processNames.etcd);
      etcdUp = false;
    }
    if (!etcdUp) {
      await ensureRecordedPortsFree([
        ['etcd', state.ports.etcdClient],
        ['etcd', state.ports.etcdPeer],
      ]);
      const etcd = await obtainEtcd();
      progress(
        `etcd (pid ${
          state.pids.etcd ?? '?'
        }) is not running; restarting it on its data`,
      );
      state.processNames.etcd = path.basename(etcd.bin);
      state.binaries.etcd = etcd.bin;
      state.binaries.etcdVersion = etcd.version;
      state.pids.etcd = await spawnEtcd(state, p, etcd.bin, {
        keepPreviousLog: true,
      });
      spawned.push([state.pids.etcd, state.processNames.etcd]);
      writeState(state);
      await waitForEtcd(state.ports.etcdClient, state.pids.etcd, p.etcdLog);
      restarted.push('etcd');
    }

    // kube-apiserver: only when it died, or does not recover (e.g. from its etcd's restart)
    let apiUp = processAlive(
      state.pids.apiserver,
      state.processNames.apiserver,
    );
    if (
      apiUp &&
      !(await becomesReady(state, restarted.length ? 20_000 : 30_000))
    ) {
      if (processAlive(state.pids.apiserver, state.processNames.apiserver)) {
        progress(
          `kube-apiserver (pid ${state.pids.apiserver}) does not become ready; restarting it`,
        );
        await killProcessGroup(
          state.pids.apiserver,
          state.processNames.apiserver,
        );
      }
      apiUp = false;
    }
    if (!apiUp) {
      await ensureRecordedPortsFree([
        ['kube-apiserver', state.ports.apiserver],
      ]);
      const apiserver = await obtainApiserver();
      progress(
        `kube-apiserver (pid ${
          state.pids.apiserver ?? '?'
        }) is not running; restarting it on ${state.server}`,
      );
      state.processNames.apiserver = path.basename(apiserver.bin);
      state.binaries.apiserver = apiserver.bin;
      state.binaries.apiserverVersion = apiserver.version;
      state.binaries.apiserverSourceVersion = apiserver.sourceVersion;
      state.pids.apiserver = await spawnApiserver(state, p, apiserver.bin, {
        keepPreviousLog: true,
      });
      spawned.push([state.pids.apiserver, state.processNames.apiserver]);
      writeState(state);
      await waitForApiserver(state, p.apiserverLog);
      restarted.push('kube-apiserver');
    }
    state.restartedAt = new Date().toISOString();
    state.restartSeconds = Math.round((Date.now() - tStart) / 100) / 10;
    writeState(state);
    const kubeconfig = await ensureSetup(state);
    return { state, kubeconfig, alreadyRunning: false, restarted };
  } catch (e) {
    abort(); // what this attempt started; the data stays
    if (
      e instanceof ClusterError &&
      !/`reset`|port 127\.0\.0\.1:/.test(e.message)
    ) {
      throw new ClusterError(
        `${e.message}\ncannot restart the control plane in place; its data is kept in ${p.dir}. ` +
          `If it cannot be used any more (e.g. corrupt etcd data), ${RESET_HINT}`,
      );
    }
    throw e;
  } finally {
    forget();
  }
}

/**
 * Starts the control plane and ensures namespace, RBAC and CRDs: reuses a running one; restarts
 * the dead process(es) of an existing one in place (same data, ports, certificates, tokens); or
 * creates a new one when there is no state (or only that of a first start that never completed).
 * Returns { state, kubeconfig, alreadyRunning, restarted? } (`restarted`: the processes restarted
 * in place).
 */
export async function startCluster() {
  const p = clusterPaths();
  fs.mkdirSync(p.dir, { recursive: true });
  return withLock(
    p.lockFile,
    'starting/stopping the control plane',
    async () => {
      const existing = readClusterState();
      if (existing && processesAlive(existing) && (await isReady(existing))) {
        const kubeconfig = await ensureSetup(existing);
        return { state: existing, kubeconfig, alreadyRunning: true };
      }
      if (existing?.readyAt) return restartInPlace(existing, p);
      if (existing) {
        // interrupted before the apiserver was ever ready: nothing in it to keep
        progress(
          'found the state of a first start that never completed; starting afresh',
        );
        await killAndClean(existing);
      } else if (fs.existsSync(path.join(p.etcdData, 'member'))) {
        throw new ClusterError(
          `${p.dir} holds etcd data but no state.json: cannot restart it in place; ${RESET_HINT}`,
        );
      }
      return startFresh(p);
    },
  );
}

/** Stops the control plane and deletes its data. Returns false when none was running. */
export async function stopCluster() {
  const p = clusterPaths();
  if (!fs.existsSync(p.dir)) return false;
  return withLock(
    p.lockFile,
    'starting/stopping the control plane',
    async () => {
      const state = readClusterState();
      const live = processLiveness(state);
      await killAndClean(state);
      return live.etcd || live.apiserver;
    },
  );
}

/**
 * `reset`: stops whatever of the control plane still runs and deletes all its data (the same as
 * `stop`; also for a state that `start` cannot restart). Returns whether a process was stopped.
 */
export async function resetCluster() {
  return stopCluster();
}

// ---------------------------------------------------------------------------------------------
// apiserver kill / restart on the same etcd (for resilience tests of watch clients)

/**
 * Kills only the kube-apiserver of the running control plane, by its PID (SIGKILL by default, so
 * clients see connections drop as in a crash); etcd keeps running with all data. Returns the pid
 * that was killed, or null when the apiserver was not running.
 */
export async function killApiserver({ signal = 'SIGKILL' } = {}) {
  const state = readClusterState();
  if (!state?.pids?.apiserver)
    throw new ClusterError('no control plane state: start one first');
  const pid = state.pids.apiserver;
  const name = state.processNames?.apiserver ?? 'kube-apiserver';
  if (!processAlive(pid, name)) return null;
  signalGroup(pid, signal);
  const deadline = Date.now() + 10_000;
  while (processAlive(pid, name)) {
    if (Date.now() > deadline)
      throw new ClusterError(`kube-apiserver (pid ${pid}) did not exit`);
    await sleep(50);
  }
  return pid;
}

/**
 * Starts the kube-apiserver again on the same etcd (same port, certificates, keys and tokens, so
 * existing kubeconfigs keep working), killing a still-running one first; waits for /readyz.
 * Returns the new state (with the new `pids.apiserver`).
 */
export async function restartApiserver() {
  const p = clusterPaths();
  return withLock(
    p.lockFile,
    'starting/stopping the control plane',
    async () => {
      const state = readClusterState();
      if (!state?.ports?.apiserver)
        throw new ClusterError('no control plane state: start one first');
      if (!processAlive(state.pids.etcd, state.processNames?.etcd ?? 'etcd'))
        throw new ClusterError('etcd is not running: start the control plane');
      await killProcessGroup(
        state.pids.apiserver,
        state.processNames?.apiserver ?? 'kube-apiserver',
      );
      state.pids.apiserver = await spawnApiserver(
        state,
        p,
        state.binaries.apiserver,
        { keepPreviousLog: true },
      );
      writeState(state);
      await waitForApiserver(state, p.apiserverLog);
      state.restartedAt = new Date().toISOString();
      writeState(state);
      return state;
    },
  );
}

function shellQuote(s) {
  return `'${String(s).replace(/'/g, `'\\''`)}'`;
}

async function main(argv) {
  const cmd = argv[0] ?? 'status';
  switch (cmd) {
    case 'start': {
      const { state, kubeconfig, alreadyRunning, restarted } =
        await startCluster();
      if (alreadyRunning) {
        process.stdout.write(
          `control plane already running at ${state.server}\n`,
        );
      } else if (restarted) {
        process.stdout.write(
          `control plane restarted in place at ${state.server} (restarted: ${
            restarted.length ? restarted.join(', ') : 'nothing'
          }; ready in ${
            state.restartSeconds
          }s; same data, URL, tokens and kubeconfig)\n`,
        );
      } else {
        process.stdout.write(
          `control plane running at ${state.server} (${
            state.binaries.apiserverVersion
          }, etcd ${state.binaries.etcdVersion.replace(
            /^etcd Version:\s*/,
            '',
          )}; ready in ${state.startSeconds}s)\n`,
        );
      }
      process.stdout.write(`kubeconfig: ${kubeconfig}\n`);
      return 0;
    }
    case 'stop':
    case 'reset': {
      const stopped = await (cmd === 'stop' ? stopCluster() : resetCluster());
      process.stdout.write(
        stopped
          ? 'control plane stopped, its data deleted\n'
          : 'no control plane running (any data deleted)\n',
      );
      return 0;
    }
    case 'status': {
      const { state, running, alive, etcdAlive, apiserverAlive } =
        await clusterStatus();
      if (running) {
        process.stdout.write(
          [
            'running',
            `server:     ${state.server}`,
            `pids:       etcd ${state.pids.etcd}, kube-apiserver ${state.pids.apiserver}`,
            `version:    ${state.binaries.apiserverVersion}`,
            `kubeconfig: ${state.kubeconfig}`,
            '',
          ].join('\n'),
        );
        return 0;
      }
      const p = clusterPaths();
      if (alive) {
        process.stdout.write(
          `not running (processes alive but ${state.server}/readyz does not answer; see ${p.apiserverLog})\n`,
        );
      } else if (etcdAlive || apiserverAlive) {
        const [down, downPid, downLog, up, upPid] = etcdAlive
          ? [
              'kube-apiserver',
              state.pids?.apiserver,
              p.apiserverLog,
              'etcd',
              state.pids?.etcd,
            ]
          : [
              'etcd',
              state.pids?.etcd,
              p.etcdLog,
              'kube-apiserver',
              state.pids?.apiserver,
            ];
        process.stdout.write(
          `not running: ${down} (pid ${
            downPid ?? '?'
          }) is down, ${up} (pid ${upPid}) is running; ` +
            `\`start\` restarts ${down} in place (same data, URL and tokens); last log: ${downLog}\n`,
        );
      } else {
        process.stdout.write(
          state
            ? `not running: etcd and kube-apiserver are down; \`start\` restarts them in place (same data, URL and tokens; ${state.server}), \`reset\` deletes the data\n`
            : 'not running\n',
        );
      }
      return 3;
    }
    case 'env': {
      const { state, running } = await clusterStatus();
      if (!running) {
        process.stderr.write(
          'kubeai cluster: not running (start it with `yarn cluster:start`)\n',
        );
        return 3;
      }
      process.stdout.write(
        [
          `export KUBEAI_CLUSTER_URL=${shellQuote(state.server)}`,
          `export KUBEAI_CLUSTER_TOKEN=${shellQuote(state.tokens.admin)}`,
          `export KUBEAI_KUBECONFIG=${shellQuote(state.kubeconfig)}`,
          `export KUBEAI_CLUSTER_CA_FILE=${shellQuote(state.caFile)}`,
          '',
        ].join('\n'),
      );
      return 0;
    }
    case 'obtain': {
      const etcd = await obtainEtcd();
      const api = await obtainApiserver();
      process.stdout.write(
        `etcd: ${etcd.bin} (${etcd.version})\nkube-apiserver: ${api.bin} (${api.version})\n`,
      );
      return 0;
    }
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(
        'usage: node scripts/cluster/cluster.mjs start|stop|reset|status|env|obtain\n',
      );
      return 0;
    default:
      process.stderr.write(
        `kubeai cluster: unknown command '${cmd}' (use start|stop|reset|status|env|obtain)\n`,
      );
      return 1;
  }
}

if (
  process.argv[1] &&
  import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href
) {
  const onSignal = signal => {
    for (const fn of interruptCleanups) {
      try {
        fn();
      } catch {
        /* best effort */
      }
    }
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  main(process.argv.slice(2)).then(
    code => process.exit(code),
    err => {
      if (process.env.KUBEAI_DEBUG === '1') {
        process.stderr.write(`${err?.stack ?? err}\n`);
      } else {
        const msg =
          err instanceof ClusterError
            ? err.message
            : `unexpected error: ${err?.message ?? err}`;
        process.stderr.write(`kubeai cluster: ${msg}\n`);
      }
      process.exit(1);
    },
  );
}
