// The two binaries: etcd from Debian's etcd-server, and kube-apiserver — $KUBEAI_KUBE_APISERVER, the
// cache ${XDG_CACHE_HOME:-~/.cache}/kubeai/kube-apiserver-<source version>/, or a one-off build from
// Debian's `kubernetes` source package (vendored reflect2 upgraded to v1.0.2).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureDebSrc, ensurePackages } from './packages.mjs';
import { withLock } from './processes.mjs';
import { cacheRoot } from './state.mjs';
import {
  ClusterError,
  isExecutable,
  lastLines,
  onInterrupt,
  progress,
  rmrf,
  run,
  tailFile,
  withTail,
} from './util.mjs';

/** Debian bookworm's `kubernetes` source version, used to find a cached binary without asking apt. */
export const KNOWN_SOURCE_VERSION = '1.20.5+really1.20.2-1.1+deb12u1';
export const RUNTIME_PACKAGES = ['etcd-server', 'openssl'];
export const BUILD_PACKAGES = [
  'golang-go',
  'rsync',
  'jq',
  'make',
  'golang-github-modern-go-reflect2-dev',
  'dpkg-dev',
];
export const REFLECT2_SRC =
  '/usr/share/gocode/src/github.com/modern-go/reflect2';

// ---------------------------------------------------------------------------------------------
// obtain binaries

export function binaryVersion(bin) {
  const res = spawnSync(bin, ['--version'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (res.status !== 0) return null;
  return `${res.stdout}${res.stderr}`.trim().split('\n')[0];
}

export function findCachedApiserver() {
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

/** The source version of a `.dsc` (its `Version:` without an epoch), else from its file name. */
export function sourceVersionOf(dscName, dscText) {
  return (
    /^Version:\s*(\S+)/m.exec(dscText)?.[1].replace(/^\d+:/, '') ??
    dscName.replace(/^kubernetes_/, '').replace(/\.dsc$/, '')
  );
}

export async function buildApiserver() {
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
    const sourceVersion = sourceVersionOf(
      dsc,
      fs.readFileSync(path.join(dl, dsc), 'utf8'),
    );
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
