/*
 * A portal backend for integration tests: the real permission stack (the permission backend with
 * this repo's policy module, and the real permissions service that asks it — startTestBackend's
 * default is a mock), the real catalog with the KubeAI kinds, the scaffolder with the kubeai:*
 * actions, and the KubeAI plugin against the local control plane.
 *
 * Users call with tokens signed by an auth stand-in (./realAuth.ts, Backstage's real auth services)
 * whose ownership refs come from a fixed table: the identity provider is not what these tests are
 * about, the decisions made on those refs are.
 */
import { permissionsServiceFactory } from '@backstage/backend-defaults/permissions';
import {
  coreServices,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import {
  mockServices,
  startTestBackend,
  TestDatabases,
} from '@backstage/backend-test-utils';
import request from 'supertest';
import { permissionPolicyModule, type PolicyName } from '../permissionPolicy';
import { localKubernetesConfig } from './localCluster';
import type { realAuth } from './realAuth';

export type Knex = Awaited<ReturnType<TestDatabases['init']>>;

export interface PortalOptions {
  policy: PolicyName;
  /** The KubeAI plugin's database (shared by the portals of one test: one registry). */
  kubeaiDatabase: Knex;
  /** A new database for each other plugin (catalog, scaffolder). */
  newDatabase: () => Promise<Knex>;
  /** The users and their tokens (one instance for all portals of a test: the same keys). */
  identities: ReturnType<typeof realAuth>;
  /** The catalog's file location. */
  entitiesFile: string;
  /** The scaffolder's working directory. */
  workingDirectory: string;
  /** `kubeai.tenancy` (the ownership policy's platform admins). */
  tenancy: { platformAdmins: string[] };
}

/** Starts a portal backend with the permission policy `policy`. */
export async function startPortal(options: PortalOptions) {
  const backend = await startTestBackend({
    features: [
      import('@backstage/plugin-permission-backend'),
      permissionPolicyModule,
      permissionsServiceFactory,
      import('@backstage/plugin-catalog-backend'),
      import(
        '@backstage/plugin-catalog-backend-module-scaffolder-entity-model'
      ),
      import('@kubeai/plugin-catalog-backend-module-kubeai'),
      import('@backstage/plugin-scaffolder-backend'),
      import('@kubeai/plugin-scaffolder-backend-module-kubeai'),
      import('@kubeai/plugin-kubeai-backend'),
      ...options.identities.features,
      createServiceFactory({
        service: coreServices.database,
        deps: { plugin: coreServices.pluginMetadata },
        async factory({ plugin }) {
          const client =
            plugin.getId() === 'kubeai'
              ? options.kubeaiDatabase
              : await options.newDatabase();
          return { getClient: async () => client };
        },
      }),
      mockServices.rootConfig.factory({
        data: {
          backend: {
            baseUrl: 'http://localhost:7007',
            workingDirectory: options.workingDirectory,
          },
          permission: { enabled: true, policy: options.policy },
          catalog: {
            rules: [
              {
                allow: [
                  'Template',
                  'Location',
                  'Group',
                  'User',
                  'Model',
                  'Dataset',
                  'InferenceService',
                ],
              },
            ],
            locations: [{ type: 'file', target: options.entitiesFile }],
          },
          kubeai: {
            registry: { validateResponses: true },
            informers: { enabled: false },
            tenancy: options.tenancy,
          },
          kubernetes: localKubernetesConfig(),
        },
      }),
    ],
  });
  return {
    policy: options.policy,
    tokenOf: options.identities.userToken,
    server: backend.server,
    stop: () => backend.stop(),
  };
}

export type Portal = Awaited<ReturnType<typeof startPortal>>;

/** An answer of the portal. */
export interface Answer {
  status: number;
  body: any;
}

/** A request to a portal as `user` (a user entity ref). */
export async function call(
  portal: Portal,
  user: string,
  method: 'get' | 'post' | 'put' | 'patch' | 'delete',
  path: string,
  body?: unknown,
): Promise<Answer> {
  let req = request(portal.server)
    [method](path)
    .set('Authorization', `Bearer ${portal.tokenOf(user)}`);
  if (body !== undefined) req = req.send(body as object);
  const res = await req;
  return { status: res.status, body: res.body };
}

/** The same, failing with the answer unless it is 2xx (for a test's own setup). */
export async function must(
  portal: Portal,
  user: string,
  method: 'get' | 'post' | 'put' | 'patch' | 'delete',
  path: string,
  body?: unknown,
): Promise<any> {
  const res = await call(portal, user, method, path, body);
  if (res.status < 200 || res.status > 299) {
    throw new Error(
      `${method.toUpperCase()} ${path} as ${user}: ${
        res.status
      } ${JSON.stringify(res.body).slice(0, 500)}`,
    );
  }
  return res.body;
}

/** `check` until it stops throwing (its last error after `timeoutMs`). */
export async function eventually<T>(
  check: () => Promise<T>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise(resolve => setTimeout(resolve, 250));
    }
  }
}

/**
 * Waits until the portal's catalog has every entity of `refs`, those with `spec.owner` with their
 * `ownedBy` relation (what `isEntityOwner` decides on).
 */
export async function waitForCatalog(
  portal: Portal,
  user: string,
  refs: string[],
  timeoutMs = 120_000,
): Promise<void> {
  await eventually(async () => {
    const { items } = await must(
      portal,
      user,
      'post',
      '/api/catalog/entities/by-refs',
      { entityRefs: refs },
    );
    const missing = refs.filter((_ref, i) => {
      const entity = items[i];
      if (!entity) return true;
      return (
        entity.spec?.owner &&
        !entity.relations?.some((r: any) => r.type === 'ownedBy')
      );
    });
    if (missing.length) {
      throw new Error(
        `the ${portal.policy} portal's catalog lacks ${missing.length} of ${
          refs.length
        } entities (or their ownedBy relation): ${missing
          .slice(0, 5)
          .join(', ')}`,
      );
    }
  }, timeoutMs);
}

/** The entity refs of a portal's catalog, sorted. */
export async function snapshotCatalog(
  portal: Portal,
  user: string,
): Promise<string[]> {
  const entities = await must(
    portal,
    user,
    'get',
    '/api/catalog/entities?fields=kind,metadata.namespace,metadata.name',
  );
  return entities
    .map(
      (e: any) =>
        `${String(e.kind).toLowerCase()}:${e.metadata.namespace ?? 'default'}/${
          e.metadata.name
        }`,
    )
    .sort();
}

/**
 * Every row of every KubeAI table (SQLite), in a stable order — the registry, the portal's
 * entities, the observed state: equal snapshots mean nothing was written. The audit trail
 * (`kubeai_audit*`) is left out: recording a refused attempt is its job.
 */
export async function snapshotRegistry(
  knex: Knex,
): Promise<Record<string, string[]>> {
  const tables = (
    await knex('sqlite_master').where({ type: 'table' }).select('name')
  )
    .map((r: { name: string }) => r.name)
    .filter(
      (name: string) =>
        name.startsWith('kubeai_') && !name.startsWith('kubeai_audit'),
    )
    .sort();
  const out: Record<string, string[]> = {};
  for (const table of tables) {
    const rows = await knex(table).select();
    out[table] = rows
      .map((row: object) => JSON.stringify(row, Object.keys(row).sort()))
      .sort();
  }
  return out;
}
