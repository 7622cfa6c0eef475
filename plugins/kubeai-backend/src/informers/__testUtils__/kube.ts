/**
 * Test helpers that play the controllers: plain HTTPS requests to a local control plane
 * (scripts/cluster/cluster.mjs) with its admin token — creating objects and writing their status
 * through the `/status` subresource, as a controller would.
 */
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { localKubeconfigPath } from '../../__testUtils__/localCluster';

/** The parts of a control plane's state.json the tests use. */
export interface ClusterState {
  server: string;
  tokens: { admin: string; restricted: string };
  caFile?: string;
  kubeconfig: string;
  pids: { etcd: number; apiserver: number };
  stateDir: string;
  binaries?: { apiserverVersion?: string; etcdVersion?: string };
}

/** The state of the control plane in `dir` (default: the shared one, `yarn cluster:start`). */
export function readClusterState(dir?: string): ClusterState {
  const stateDir = dir ?? path.dirname(localKubeconfigPath());
  const file = path.join(stateDir, 'state.json');
  if (!fs.existsSync(file)) {
    throw new Error(
      `No local control plane: ${file} does not exist. Run \`yarn cluster:start\` first.`,
    );
  }
  return { stateDir, ...JSON.parse(fs.readFileSync(file, 'utf8')) };
}

/** `kubernetes.clusterLocatorMethods` config for a control plane (admin token). */
export function clusterConfig(
  clusters: {
    name: string;
    state?: ClusterState;
    url?: string;
    token?: string;
  }[],
) {
  return {
    clusterLocatorMethods: [
      {
        type: 'config',
        clusters: clusters.map(c => ({
          name: c.name,
          url: c.url ?? c.state!.server,
          authProvider: 'serviceAccount',
          serviceAccountToken: c.token ?? c.state!.tokens.admin,
          ...(c.state?.caFile && fs.existsSync(c.state.caFile)
            ? { caData: fs.readFileSync(c.state.caFile).toString('base64') }
            : { skipTLSVerify: true }),
        })),
      },
    ],
  };
}

export interface KubeResponse {
  status: number;
  body: any;
}

/** Requests to one control plane as its admin. */
export class Kube {
  readonly #agent = new https.Agent({ keepAlive: true, maxSockets: 16 });
  #ca: Buffer | undefined;

  constructor(readonly state: ClusterState) {
    this.#ca =
      state.caFile && fs.existsSync(state.caFile)
        ? fs.readFileSync(state.caFile)
        : undefined;
  }

  request(
    method: string,
    urlPath: string,
    body?: unknown,
    contentType = 'application/json',
    timeoutMs = 15_000,
  ): Promise<KubeResponse> {
    const url = new URL(urlPath, this.state.server);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = https.request(
        url,
        {
          method,
          agent: this.#agent,
          headers: {
            Accept: 'application/json',
            Authorization: `Bearer ${this.state.tokens.admin}`,
            ...(payload
              ? {
                  'Content-Type': contentType,
                  'Content-Length': Buffer.byteLength(payload),
                }
              : {}),
          },
          ...(this.#ca ? { ca: this.#ca } : { rejectUnauthorized: false }),
          timeout: timeoutMs,
        },
        res => {
          const chunks: Buffer[] = [];
          res.on('data', c => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              // plain text
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () =>
        req.destroy(new Error(`timeout ${method} ${urlPath}`)),
      );
      req.on('error', reject);
      if (payload) req.write(payload);
      req.end();
    });
  }

  /** Like {@link request}, failing unless the status is 2xx. */
  async must(
    method: string,
    urlPath: string,
    body?: unknown,
    contentType?: string,
  ): Promise<any> {
    const res = await this.request(method, urlPath, body, contentType);
    if (res.status < 200 || res.status > 299) {
      throw new Error(
        `${method} ${urlPath}: HTTP ${res.status}: ${JSON.stringify(
          res.body,
        ).slice(0, 500)}`,
      );
    }
    return res.body;
  }

  /** POST to a collection. */
  create(collection: string, object: unknown) {
    return this.must('POST', collection, object);
  }

  /** A merge patch of the `/status` subresource (what a controller writes). */
  patchStatus(objectPath: string, status: unknown) {
    return this.must(
      'PATCH',
      `${objectPath}/status`,
      { status },
      'application/merge-patch+json',
    );
  }

  /** A merge patch of the object. */
  mergePatch(objectPath: string, patch: unknown) {
    return this.must(
      'PATCH',
      objectPath,
      patch,
      'application/merge-patch+json',
    );
  }

  /** Deletes an object at once (no kubelet or garbage collector runs); ignores 404. */
  async remove(objectPath: string) {
    const res = await this.request(
      'DELETE',
      `${objectPath}?gracePeriodSeconds=0`,
      {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        gracePeriodSeconds: 0,
        propagationPolicy: 'Background',
      },
    );
    if (res.status !== 404 && (res.status < 200 || res.status > 299)) {
      throw new Error(`DELETE ${objectPath}: HTTP ${res.status}`);
    }
  }

  close() {
    this.#agent.destroy();
  }
}

/** Polls `fn` until it returns a truthy value; resolves with it and the time it took. */
export async function waitFor<T>(
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs: number,
  what = 'condition',
  intervalMs = 25,
): Promise<{ value: T; ms: number }> {
  const start = Date.now();
  let last: unknown;
  let lastValue: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return { value, ms: Date.now() - start };
      lastValue = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() - start > timeoutMs) {
      throw new Error(
        `${what} not reached within ${timeoutMs} ms${
          last
            ? ` (last error: ${String(last)})`
            : ` (last value: ${JSON.stringify(lastValue)})`
        }`,
      );
    }
    await new Promise(r => setTimeout(r, intervalMs));
  }
}

/** Runs `kubectl` against a control plane's kubeconfig; resolves with its output, rejects on failure. */
export function kubectl(
  state: ClusterState,
  args: string[],
  input?: string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'kubectl',
      ['--kubeconfig', state.kubeconfig, ...args],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', d => (out += d));
    child.stderr.on('data', d => (err += d));
    child.on('error', reject);
    child.on('close', code =>
      code === 0
        ? resolve(out)
        : reject(new Error(`kubectl ${args.join(' ')}: ${err || out}`)),
    );
    child.stdin.end(input ?? '');
  });
}

/** The repository root (for scripts/cluster/cluster.mjs). */
export const REPO_ROOT = path.resolve(__dirname, '../../../../..');

/**
 * Calls an export of scripts/cluster/cluster.mjs in a child node process (the script is ESM) with
 * `KUBEAI_CLUSTER_DIR=dir`; resolves with its JSON-serialized result.
 */
export function clusterScript(
  dir: string,
  fn: 'startCluster' | 'stopCluster' | 'restartApiserver' | 'killApiserver',
  timeoutMs = 600_000,
  env: Record<string, string> = {},
): Promise<any> {
  const script = path.join(REPO_ROOT, 'scripts/cluster/cluster.mjs');
  const code = `import(${JSON.stringify(
    `file://${script}`,
  )}).then(m => m.${fn}()).then(r => { process.stdout.write(JSON.stringify(r ?? null)); }, e => { process.stderr.write(String(e && e.stack || e)); process.exit(1); })`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', code], {
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        ...env,
        KUBEAI_CLUSTER_DIR: dir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', d => (out += d));
    child.stderr.on('data', d => (err += d));
    child.on('close', exitCode => {
      clearTimeout(timer);
      if (exitCode === 0) {
        try {
          resolve(out ? JSON.parse(out) : null);
        } catch {
          resolve(out);
        }
      } else {
        reject(new Error(`cluster.mjs ${fn} failed: ${err.slice(-2000)}`));
      }
    });
  });
}
