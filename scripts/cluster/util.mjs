// Small helpers shared by the control-plane modules: the error type, progress lines, child
// processes, log tails, and the clean-ups to run when `cluster.mjs` is interrupted.
import { spawn } from 'node:child_process';
import fs from 'node:fs';

export class ClusterError extends Error {}

export const sleep = ms => new Promise(r => setTimeout(r, ms));
export const progress = msg => process.stderr.write(`kubeai cluster: ${msg}\n`);
export const isRoot = () =>
  typeof process.getuid === 'function' && process.getuid() === 0;

export function rmrf(p) {
  fs.rmSync(p, { recursive: true, force: true });
}

/** Synchronous clean-ups to run when interrupted (SIGINT/SIGTERM) — finally blocks do not run then. */
export const interruptCleanups = new Set();
export function onInterrupt(fn) {
  interruptCleanups.add(fn);
  return () => interruptCleanups.delete(fn);
}

export function run(cmd, args, { cwd, env, input, stdoutFd } = {}) {
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

export async function mapLimit(items, limit, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, worker),
  );
}

export function lastLines(text, n = 15) {
  return String(text).trimEnd().split('\n').slice(-n);
}

export function tailFile(file, n = 20) {
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

export function withTail(message, lines, file) {
  const tail = lines.length
    ? `\n${lines.map(l => `    | ${l}`).join('\n')}`
    : '';
  return `${message}${file ? ` (log: ${file})` : ''}${tail}`;
}

export function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Runs (best effort) every clean-up registered with {@link onInterrupt}. */
export function runInterruptCleanups() {
  for (const fn of interruptCleanups) {
    try {
      fn();
    } catch {
      /* best effort */
    }
  }
}

export function shellQuote(s) {
  return `'${String(s).replace(/'/g, `'\\''`)}'`;
}
