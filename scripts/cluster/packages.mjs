// Debian packages: which are installed (dpkg), installing the missing ones (apt-get as root, waiting
// for a busy dpkg lock), and a deb-src entry so that `apt-get source kubernetes` works.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import {
  ClusterError,
  isRoot,
  lastLines,
  progress,
  run,
  sleep,
  withTail,
} from './util.mjs';

export const DEB_SRC_FILE = '/etc/apt/sources.list.d/kubeai-deb-src.sources';

// ---------------------------------------------------------------------------------------------
// apt

export function dpkgInstalled(pkgs) {
  const res = spawnSync(
    'dpkg-query',
    ['-W', '-f', '${Package} ${db:Status-Abbrev}\n', ...pkgs],
    {
      encoding: 'utf8',
    },
  );
  const ok = installedFromDpkgQuery(res.stdout || '');
  return pkgs.filter(p => ok.has(p));
}

/** Names (without `:arch`) of the fully installed (`ii`) packages in `dpkg-query -W -f '${Package} ${db:Status-Abbrev}\n'` output. */
export function installedFromDpkgQuery(stdout) {
  const ok = new Set();
  for (const line of stdout.split('\n')) {
    const [name, status] = line.trim().split(/\s+/);
    if (name && status === 'ii') ok.add(name.replace(/:.*$/, ''));
  }
  return ok;
}

export function rootPrefix(what) {
  if (isRoot()) return [];
  const res = spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' });
  if (res.status === 0) return ['sudo', '-n'];
  throw new ClusterError(
    `need root to ${what}: run as root, or with password-less sudo`,
  );
}

export const APT_LOCKED =
  /Could not get lock|Unable to acquire the dpkg frontend lock|Unable to lock directory|is another process using it|dpkg was interrupted/i;

/** Runs apt-get as root, waiting (not fighting) while another apt/dpkg holds the locks. */
export async function aptGet(args, what) {
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

export async function ensurePackages(pkgs) {
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

export async function sourceVersionAvailable() {
  const res = await run('apt-cache', [
    'showsrc',
    '--only-source',
    'kubernetes',
  ]);
  const m = /^Version:\s*(\S+)/m.exec(res.stdout || '');
  return res.code === 0 && m ? m[1] : null;
}

export function writeRootFile(file, content, what) {
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

/** A deb822 `.sources` file's entries as deb-src entries (every `Types:` line becomes `Types: deb-src`). */
export function debSrcFromDeb822(text) {
  return text.replace(/^Types:.*$/gm, 'Types: deb-src');
}

/** One-line style `sources.list` → deb822 deb-src entries (its `deb` lines; `signed-by` kept); '' when none. */
export function debSrcFromSourcesList(text) {
  return text
    .split('\n')
    .map(l => l.trim())
    .filter(l => /^deb\s/.test(l))
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

/** Makes `apt-get source kubernetes` possible: a deb-src copy of the Debian sources, then apt-get update. */
export async function ensureDebSrc() {
  if (await sourceVersionAvailable()) return;
  if (!fs.existsSync(DEB_SRC_FILE)) {
    let content;
    const deb822 = '/etc/apt/sources.list.d/debian.sources';
    if (fs.existsSync(deb822)) {
      content = debSrcFromDeb822(fs.readFileSync(deb822, 'utf8'));
    } else if (fs.existsSync('/etc/apt/sources.list')) {
      content = debSrcFromSourcesList(
        fs.readFileSync('/etc/apt/sources.list', 'utf8'),
      );
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
