/*
 * deploy/ as kubectl builds it and as the local control plane serves it, for deploy.test.ts:
 * the kustomization's fields kubectl's kustomize would apply (`resources`, `images`; any other
 * field is refused, so the build cannot silently differ from kubectl's), and raw requests with any
 * content type (server-side apply) plus the discovery that maps an object to its URL.
 */
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
// the repository root's dependency (kubectl's kustomize reads YAML; so does this build)
// eslint-disable-next-line @backstage/no-undeclared-imports
import YAML from 'yaml';
import { localClusterState } from './localCluster';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: any };
  [key: string]: any;
}

/** A fact the manifests must have before any test can use them. */
export function must(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

export function parseAll(file: string): KubeObject[] {
  return YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'))
    .map(doc => {
      if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0]}`);
      return doc.toJS();
    })
    .filter(Boolean);
}

/** The kustomization fields this build reproduces (kubectl's kustomize has many more). */
const SUPPORTED_FIELDS = new Set(['apiVersion', 'kind', 'resources', 'images']);

/** The image name of a reference, without tag or digest (a port in the registry stays). */
const imageName = (image: string) =>
  image.replace(/@.*$/, '').replace(/:[^:/]+$/, '');

/**
 * `kubectl kustomize dir` for the fields deploy/ uses: the resource files' objects in order, each
 * id (kind, namespace, name) once, and the `images` transformer on the pod templates' containers.
 */
export function buildKustomization(dir: string): KubeObject[] {
  const k = YAML.parse(
    fs.readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8'),
  );
  const unsupported = Object.keys(k).filter(f => !SUPPORTED_FIELDS.has(f));
  if (unsupported.length) {
    throw new Error(
      `deploy/kustomization.yaml uses ${unsupported.join(
        ', ',
      )}: reproduce it in buildKustomization (deploy.test.ts) or keep to resources and images`,
    );
  }
  const objects = (k.resources as string[]).flatMap(file => {
    const at = path.join(dir, file);
    if (!fs.statSync(at).isFile()) {
      throw new Error(`${file}: only files are supported as resources here`);
    }
    return parseAll(at);
  });
  const ids = objects.map(
    o => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`,
  );
  const twice = ids.filter((id, i) => ids.indexOf(id) !== i);
  must(!twice.length, `deploy/ has ${twice.join(', ')} more than once`);
  for (const o of objects) {
    const pod =
      o.spec?.jobTemplate?.spec?.template?.spec ?? o.spec?.template?.spec;
    for (const c of [
      ...(pod?.containers ?? []),
      ...(pod?.initContainers ?? []),
    ]) {
      const rule = (k.images ?? []).find(
        (i: any) => i.name === imageName(c.image),
      );
      if (!rule) continue;
      const tag = c.image.slice(imageName(c.image).length); // ':tag', '@digest' or ''
      const name = rule.newName ?? imageName(c.image);
      c.image = rule.digest
        ? `${name}@${rule.digest}`
        : `${name}${rule.newTag ? `:${rule.newTag}` : tag}`;
    }
  }
  return objects;
}

/** A request to the local apiserver as the admin, with any content type. */
export function kube(
  method: string,
  apiPath: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<{ status: number; body: any }> {
  const state = localClusterState();
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request(
      new URL(apiPath, state.server),
      {
        method,
        ca: state.ca,
        timeout: 30_000,
        headers: {
          Authorization: `Bearer ${state.adminToken}`,
          Accept: 'application/json',
          ...(payload
            ? {
                'Content-Type': contentType,
                'Content-Length': Buffer.byteLength(payload),
              }
            : {}),
        },
      },
      res => {
        let text = '';
        res.on('data', chunk => (text += chunk));
        res.on('end', () => {
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
      req.destroy(new Error(`timeout ${method} ${apiPath}`)),
    );
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

/**
 * The local control plane is Kubernetes 1.20: it serves PodDisruptionBudget only as
 * policy/v1beta1, whose spec (selector, minAvailable / maxUnavailable) is the one policy/v1 has;
 * deploy/ names policy/v1, which every supported cluster serves (v1beta1 is gone since 1.25).
 */
export const SERVED_INSTEAD: Record<string, string> = {
  'policy/v1 PodDisruptionBudget': 'policy/v1beta1',
};

const discovered = new Map<string, any[] | undefined>();

/** Resource name and scope of a kind in a group version (discovery), undefined when not served. */
export async function resourceOf(apiVersion: string, kind: string) {
  if (!discovered.has(apiVersion)) {
    const at = apiVersion.includes('/')
      ? `/apis/${apiVersion}`
      : `/api/${apiVersion}`;
    const res = await kube('GET', at);
    discovered.set(
      apiVersion,
      res.status === 200 ? res.body.resources : undefined,
    );
  }
  const r = discovered
    .get(apiVersion)
    ?.find((x: any) => x.kind === kind && !x.name.includes('/'));
  return r
    ? { plural: r.name as string, namespaced: r.namespaced as boolean }
    : undefined;
}

/** The object as the local control plane serves it (its group version) and its URL. */
export async function served(
  o: KubeObject,
): Promise<{ url: string; body: KubeObject }> {
  let apiVersion = o.apiVersion;
  let r = await resourceOf(apiVersion, o.kind);
  if (!r && SERVED_INSTEAD[`${apiVersion} ${o.kind}`]) {
    apiVersion = SERVED_INSTEAD[`${apiVersion} ${o.kind}`];
    r = await resourceOf(apiVersion, o.kind);
  }
  if (!r) {
    throw new Error(
      `the local control plane serves no ${o.kind} in ${o.apiVersion}`,
    );
  }
  const base = apiVersion.includes('/')
    ? `/apis/${apiVersion}`
    : `/api/${apiVersion}`;
  const ns = r.namespaced ? `/namespaces/${o.metadata.namespace}` : '';
  return {
    url: `${base}${ns}/${r.plural}/${o.metadata.name}`,
    body: { ...o, apiVersion },
  };
}
