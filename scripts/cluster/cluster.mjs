#!/usr/bin/env node
/*
 * kubeai local control plane: a real kube-apiserver + etcd on loopback, no Docker.
 *
 *   node scripts/cluster/cluster.mjs start    obtain binaries (one-off build), start, set up RBAC + CRDs;
 *                                             with existing state whose processes died (crash, reboot),
 *                                             restart the dead one(s) in place: same data, ports, certs, tokens;
 *                                             a running kube-apiserver started with other flags, token file or
 *                                             audit policy than this script's is restarted in place too
 *   node scripts/cluster/cluster.mjs stop     stop both processes, remove the etcd data and state
 *   node scripts/cluster/cluster.mjs reset    the same as stop (also when the state is unusable)
 *   node scripts/cluster/cluster.mjs status   exit 0 when running, 3 when not (says which process is down)
 *   node scripts/cluster/cluster.mjs env      shell `export` lines for the portal (exit 3 when not running)
 *   node scripts/cluster/cluster.mjs obtain   only obtain/build the binaries (e.g. to pre-warm a machine)
 *
 * etcd comes from Debian's `etcd-server`; kube-apiserver v1.20.2 is built once from Debian's
 * `kubernetes` source package (with vendored reflect2 upgraded to v1.0.2, see below) and cached in
 * ${XDG_CACHE_HOME:-~/.cache}/kubeai/kube-apiserver-<source version>/kube-apiserver.
 * Why each step is there (the reflect2 fix, loopback-only flags): README.md, "Local Kubernetes control plane".
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
 * Node 20 ESM, node builtins + `yaml` (+ the repository's `typescript`, to read the workload table for the
 * teams' RBAC during setup). The parts live beside this file, one module per concern:
 *   packages.mjs        dpkg/apt, the deb-src entry
 *   apiserverBuild.mjs  obtain/build/cache kube-apiserver, the etcd binary
 *   pki.mjs             service-account keys, the token file
 *   processes.mjs       liveness, process-group kill, detached spawn, loopback ports, the lock file
 *   daemons.mjs         etcd's and kube-apiserver's arguments, spawning them, waiting for health/readiness
 *   kubeApi.mjs         the small HTTPS client to the apiserver
 *   setup.mjs           kubeconfig, namespaces, RBAC (and CRDs via installCrds.mjs), applied on every start
 *   portalKinds.mjs     what the portal writes (plugins/kubeai-common/src/workloads.ts): the teams' RBAC rules
 *   tenancy.mjs         kubeai.tenancy of app-config*.yaml: owned namespaces, platform-admin groups
 *   installCrds.mjs     install the CRDs of resolveCrdFiles (which follows scripts/crds/crds.mjs)
 *   state.mjs           paths, state.json, the check that a state can be restarted in place
 *   util.mjs            ClusterError, progress lines, child processes, log tails, interrupt clean-ups
 * This file keeps the CLI and the orchestration (start, restart in place, stop, reset, kill/restart
 * the apiserver).
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { obtainApiserver, obtainEtcd } from './apiserverBuild.mjs';
import {
  apiserverFingerprint,
  becomesReady,
  etcdHealthy,
  spawnApiserver,
  spawnEtcd,
  waitForApiserver,
  waitForEtcd,
} from './daemons.mjs';
import { isReady } from './kubeApi.mjs';
import {
  ADMIN_USER,
  PORTAL_USER,
  RESTRICTED_USER,
  createServiceAccountKeys,
  ensurePortalToken,
  newTokens,
  writeTokensFile,
} from './pki.mjs';
import {
  ensureRecordedPortsFree,
  freeLoopbackPorts,
  killProcessGroup,
  processAlive,
  processLiveness,
  processesAlive,
  signalGroup,
  withLock,
} from './processes.mjs';
import { TEAM_NAMESPACE, ensureSetup } from './setup.mjs';
import {
  clusterPaths,
  readClusterState,
  unusableState,
  writeState,
} from './state.mjs';
import {
  ClusterError,
  onInterrupt,
  progress,
  rmrf,
  runInterruptCleanups,
  shellQuote,
  sleep,
} from './util.mjs';

// What other code imports from this script (jest test utils, bench, tests) stays importable here.
export { obtainApiserver, obtainEtcd } from './apiserverBuild.mjs';
export { resolveCrdFiles } from './installCrds.mjs';
export { REPO_ROOT, clusterPaths, readClusterState } from './state.mjs';
export { ClusterError } from './util.mjs';

// ---------------------------------------------------------------------------------------------
// running state

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
    p.auditPolicy,
    ...auditLogs(p),
  ])
    rmrf(f);
}

/** The audit log and its rotated backups (`audit-<time>.log`). */
function auditLogs(p) {
  try {
    return fs
      .readdirSync(p.dir)
      .filter(f => /^audit(-.*)?\.log$/.test(f))
      .map(f => path.join(p.dir, f));
  } catch {
    return [];
  }
}

/** What this version of the script records about the users and the audit log. */
function describeAccess(state, p) {
  state.users = {
    admin: ADMIN_USER,
    restricted: RESTRICTED_USER,
    portal: PORTAL_USER,
  };
  state.auditLog = p.auditLog;
}

/**
 * Why the running kube-apiserver must be restarted to take this script's setup (it reads its flags,
 * token file and audit policy only at start-up), or null.
 */
function apiserverOutdated(state, p) {
  if (state.apiserverFingerprint === apiserverFingerprint(state, p))
    return null;
  return state.apiserverFingerprint
    ? 'its flags, token file or audit policy changed'
    : 'it was started by an earlier version of this script (no portal identity, no audit log)';
}

// ---------------------------------------------------------------------------------------------
// start, restart in place, stop, reset

const RESET_HINT =
  'run `node scripts/cluster/cluster.mjs reset` to delete it (every object in the cluster) and `start` afresh';

/** A first start: new data, certificates, keys, tokens and free ports. */
async function startFresh(p) {
  const etcd = await obtainEtcd();
  const apiserver = await obtainApiserver();
  const tStart = Date.now();

  for (const f of [p.etcdData, p.certDir]) rmrf(f);
  fs.mkdirSync(p.certDir, { recursive: true, mode: 0o700 });

  await createServiceAccountKeys(p); // service-account signing key pair
  const tokens = newTokens();
  writeTokensFile(p.tokensFile, tokens);

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
  describeAccess(state, p);

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
  ensurePortalToken(state);
  describeAccess(state, p);
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

    // kube-apiserver: only when it died, does not recover (e.g. from its etcd's restart), or was
    // started with another setup than this script's
    let apiUp = processAlive(
      state.pids.apiserver,
      state.processNames.apiserver,
    );
    const outdated = apiUp && apiserverOutdated(state, p);
    if (outdated) {
      progress(
        `kube-apiserver (pid ${state.pids.apiserver}) is restarted in place: ${outdated}`,
      );
      await killProcessGroup(
        state.pids.apiserver,
        state.processNames.apiserver,
      );
      apiUp = false;
    }
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
        ensurePortalToken(existing);
        describeAccess(existing, p);
        const outdated = apiserverOutdated(existing, p);
        if (outdated) {
          progress(
            `kube-apiserver (pid ${existing.pids.apiserver}) is restarted in place: ${outdated}`,
          );
          const tStart = Date.now();
          await respawnApiserver(existing, p, existing.binaries.apiserver);
          existing.restartSeconds =
            Math.round((Date.now() - tStart) / 100) / 10;
          const kubeconfig = await ensureSetup(existing);
          return {
            state: existing,
            kubeconfig,
            alreadyRunning: false,
            restarted: ['kube-apiserver'],
          };
        }
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
      await respawnApiserver(state, p, state.binaries.apiserver);
      return state;
    },
  );
}

/**
 * Kills the state's kube-apiserver (if it runs) and starts it again on the same etcd, port,
 * certificates and tokens (its files rewritten from the state); waits for /readyz.
 */
async function respawnApiserver(state, p, bin) {
  state.processNames = {
    ...state.processNames,
    apiserver: state.processNames?.apiserver ?? 'kube-apiserver',
  };
  await killProcessGroup(state.pids.apiserver, state.processNames.apiserver);
  await ensureRecordedPortsFree([['kube-apiserver', state.ports.apiserver]]);
  state.pids.apiserver = await spawnApiserver(state, p, bin, {
    keepPreviousLog: true,
  });
  writeState(state);
  await waitForApiserver(state, p.apiserverLog);
  state.restartedAt = new Date().toISOString();
  writeState(state);
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
          // the portal's own identity (RBAC-bound, may impersonate), not the admin's
          `export KUBEAI_CLUSTER_TOKEN=${shellQuote(
            state.tokens.portal ?? state.tokens.admin,
          )}`,
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
    runInterruptCleanups();
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
