// Process supervision primitives: liveness by PID and name, process-group kill, detached spawn,
// loopback ports (free ones, who holds one), and the lock file that serialises cluster commands.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ClusterError, onInterrupt, progress, sleep } from './util.mjs';

/** True when `pid` is a live (non-zombie) process whose argv[0] basename is `name`. */
export function processAlive(pid, name) {
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

export function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

export function signalGroup(pid, signal) {
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
export async function killProcessGroup(pid, name, graceMs = 5000) {
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
export function spawnDetached(
  bin,
  args,
  logFile,
  cwd,
  { keepPreviousLog } = {},
) {
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

export async function freeLoopbackPorts(n) {
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
export function loopbackPortFree(port) {
  return new Promise(resolve => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Best effort: "pid N (name)" of the process listening on TCP `port`, from /proc; null if unknown. */
export function portHolder(port) {
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

/** The error text for a recorded port of `what` held by `holder` ("pid N (name)", or null when unknown). */
export function portInUseMessage(what, port, holder) {
  return (
    `cannot restart ${what} in place: its port 127.0.0.1:${port} is in use by ${
      holder ?? 'another process'
    }. The control plane keeps its ports so that kubeconfigs and a running portal keep working: ` +
    `free port ${port} and run \`start\` again (or \`reset\` to delete the control plane's data and start afresh on new ports)`
  );
}

/** Fails with a clear error when a port the state records is taken by another process. */
export async function ensureRecordedPortsFree(ports, graceMs = 5000) {
  for (const [what, port] of ports) {
    // a process killed a moment ago may still be releasing its sockets (its threads exiting)
    const deadline = Date.now() + graceMs;
    let free = await loopbackPortFree(port);
    while (!free && Date.now() < deadline) {
      await sleep(200);
      free = await loopbackPortFree(port);
    }
    if (free) continue;
    throw new ClusterError(portInUseMessage(what, port, portHolder(port)));
  }
}

// ---------------------------------------------------------------------------------------------
// locking (concurrent `start`s, concurrent builds into the shared cache)

export async function withLock(lockFile, what, fn, timeoutMs = 20 * 60_000) {
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

/** Which of the state's processes are alive (by PID and process name). */
export function processLiveness(state) {
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

export function processesAlive(state) {
  const live = processLiveness(state);
  return live.etcd && live.apiserver;
}
