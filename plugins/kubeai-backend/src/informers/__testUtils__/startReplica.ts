/*
 * Starts a replica of the portal's backend (./replica.ts) in a process of its own and resolves
 * once it listens: replicas.test.ts and bench/sync (two replicas on one PostgreSQL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export interface Replica {
  label: string;
  child: ChildProcess;
  /** `http://127.0.0.1:<port>/api/kubeai` */
  base: string;
  /** What the process wrote so far (the last 20–40 kB). */
  output: () => string;
}

export function startReplica(options: {
  label: string;
  /** knex client and connection of the shared database (the password given explicitly). */
  client: string;
  connection: unknown;
  /** The root config. */
  config: unknown;
  /** Entities of the catalog mock. */
  entities?: unknown[];
  logLevel?: string;
  /** Its own process group (bench: killed with its children). */
  detached?: boolean;
}): Promise<Replica> {
  const { label, client, connection, config, entities } = options;
  const child = spawn(
    process.execPath,
    [
      '--require',
      require.resolve('@backstage/cli/config/nodeTransform.cjs'),
      path.join(__dirname, 'replica.ts'),
    ],
    {
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        LOG_LEVEL: options.logLevel ?? 'warn',
        KUBEAI_REPLICA: JSON.stringify({
          client,
          connection,
          config,
          entities,
        }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: options.detached ?? false,
    },
  );
  let out = '';
  const keep = (d: Buffer) => {
    out += d;
    if (out.length > 40000) out = out.slice(-20000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return new Promise((resolve, reject) => {
    const ready = setInterval(() => {
      const m = /READY (\d+)/.exec(out);
      if (m) {
        clearInterval(ready);
        resolve({
          label,
          child,
          base: `http://127.0.0.1:${m[1]}/api/kubeai`,
          output: () => out,
        });
      }
    }, 50);
    child.once('exit', code => {
      clearInterval(ready);
      reject(
        new Error(`replica ${label} exited (${code}): ${out.slice(-3000)}`),
      );
    });
  });
}
