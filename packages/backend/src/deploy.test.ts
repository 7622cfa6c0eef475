/*
 * The portal's own deployment, deploy/ (README, "Production"):
 * - built as `kubectl apply -k deploy/` builds it (kustomization.yaml: `resources` and `images`,
 *   nothing else — any other field fails here, so this build cannot silently differ from kubectl's);
 * - coherent: Deployment, Service, PodDisruptionBudget, ServiceAccount, ConfigMaps and the example
 *   Secret name each other correctly; no Secret in the build; the config the pod loads (the image's
 *   app-config files + the ConfigMap's, with the ConfigMap's env and the Secret) reaches the
 *   in-cluster API with the pod's token, the Service for run credentials, PostgreSQL, and the Lease
 *   namespace the RBAC grants;
 * - accepted by the local control plane in a server-side dry-run apply, with nothing written;
 * - its RBAC, bound for real to a throwaway service account (then deleted), lets the portal do what
 *   it does: list/watch every kind the informers watch (informers/kinds.ts), apply and delete every
 *   kind it writes (the workload table and companions), run credential Secrets, pods and logs,
 *   namespaces, impersonation, and the informer Lease in kube-system — and not more than that where
 *   the portal needs less (no Secret listing, no Leases elsewhere).
 */
import { ConfigSources, FileConfigSource } from '@backstage/config-loader';
import {
  CLUSTER_KINDS,
  clusterKindSpec,
  QUEUE_OBJECTS,
  type ClusterKind,
} from '@kubeai/plugin-kubeai-common';
// The plugin exports neither: the cluster gateway's reading of `kubernetes:` and the kinds the
// informers watch are what this test must agree with, so it reads them where they are.
// eslint-disable-next-line @backstage/no-forbidden-package-imports
import { readClusterConnections } from '@kubeai/plugin-kubeai-backend/src/cluster/config';
// eslint-disable-next-line @backstage/no-forbidden-package-imports
import { OBSERVED_KINDS } from '@kubeai/plugin-kubeai-backend/src/informers/kinds';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
// eslint-disable-next-line @backstage/no-undeclared-imports -- the root's dependency, see deployManifests.ts
import YAML from 'yaml';
import {
  buildKustomization,
  kube,
  type KubeObject,
  must,
  parseAll,
  resourceOf,
  served,
} from './__testUtils__/deployManifests';
import {
  createNamespace,
  kubeClient,
  namespacedResourceTypes,
  purgeNamespaces,
  snapshotObjects,
} from './__testUtils__/localCluster';

jest.setTimeout(180_000);

const ROOT = path.resolve(__dirname, '../../..');
const DEPLOY = path.join(ROOT, 'deploy');
const SECRET_EXAMPLE = path.join(DEPLOY, 'postgres-secret.example.yaml');

const objects = buildKustomization(DEPLOY);

function theObject(kind: string, name?: string): KubeObject {
  const found = objects.filter(
    o => o.kind === kind && (!name || o.metadata.name === name),
  );
  must(
    found.length === 1,
    `deploy/ has ${found.length} ${kind}${name ? ` ${name}` : ''}, not one`,
  );
  return found[0];
}

const namespace = theObject('Namespace');
const deployment = theObject('Deployment');
const serviceAccount = theObject('ServiceAccount');
const service = theObject('Service');
const pod = deployment.spec.template.spec;
const container = pod.containers[0];
const secretExample = (() => {
  const docs = parseAll(SECRET_EXAMPLE);
  must(
    docs.length === 1 && docs[0].kind === 'Secret',
    `${SECRET_EXAMPLE} holds one Secret`,
  );
  return docs[0];
})();

/** The Role granting Leases (the informer leader election). */
const leaseRole = (() => {
  const roles = objects.filter(
    o =>
      o.kind === 'Role' &&
      o.rules.some((r: any) => r.resources.includes('leases')),
  );
  must(roles.length === 1, 'deploy/ has one Role granting leases');
  return roles[0];
})();

/** The ConfigMap behind the pod's `config` volume and the path its app-config file is read from. */
const configFile = (() => {
  const volume = pod.volumes.find((v: any) => v.configMap);
  const mount = container.volumeMounts.find((m: any) => m.name === volume.name);
  const configMap = theObject('ConfigMap', volume.configMap.name);
  const keys = Object.keys(configMap.data);
  must(keys.length === 1, `ConfigMap ${volume.configMap.name} holds one file`);
  return {
    configMap,
    key: keys[0],
    path: `${mount.mountPath}/${keys[0]}`,
  };
})();

const matches = (
  selector: Record<string, string>,
  labels: Record<string, string>,
) => Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('deploy/ manifests', () => {
  it('runs the backend in 2 replicas with its health probes, account, config and image', () => {
    expect(deployment.spec.replicas).toBe(2);
    const labels = deployment.spec.template.metadata.labels;
    expect(matches(deployment.spec.selector.matchLabels, labels)).toBe(true);
    expect(matches(service.spec.selector, labels)).toBe(true);
    expect(theObject('PodDisruptionBudget').spec.selector.matchLabels).toEqual(
      deployment.spec.selector.matchLabels,
    );
    expect(pod.serviceAccountName).toBe(serviceAccount.metadata.name);
    expect(pod.containers).toHaveLength(1);
    expect(container.image).toBe('ghcr.io/kubeai/backstage:latest');

    // the probes and the Service reach the port app-config.production.yaml listens on
    const production = YAML.parse(
      fs.readFileSync(path.join(ROOT, 'app-config.production.yaml'), 'utf8'),
    );
    const port = Number(String(production.backend.listen).split(':').pop());
    const http = container.ports.find((p: any) => p.name === 'http');
    expect(http.containerPort).toBe(port);
    expect(service.spec.ports).toEqual([
      expect.objectContaining({ name: 'http', targetPort: 'http' }),
    ]);
    expect(container.readinessProbe.httpGet).toEqual({
      path: '/.backstage/health/v1/readiness',
      port: 'http',
    });
    for (const probe of [container.livenessProbe, container.startupProbe]) {
      expect(probe.httpGet).toEqual({
        path: '/.backstage/health/v1/liveness',
        port: 'http',
      });
    }

    // the image's config files, then the ConfigMap's
    const configs = container.args.flatMap((a: string, i: number) =>
      container.args[i - 1] === '--config' ? [a] : [],
    );
    expect(configs).toEqual([
      'app-config.yaml',
      'app-config.production.yaml',
      configFile.path,
    ]);
    expect(container.envFrom).toEqual([
      {
        configMapRef: {
          name: theObject('ConfigMap', 'kubeai-portal-env').metadata.name,
        },
      },
      { secretRef: { name: secretExample.metadata.name } },
    ]);

    // one namespace for the portal; only the Lease's Role and RoleBinding live elsewhere
    for (const o of objects.filter(x => x.metadata.namespace)) {
      expect(`${o.kind}/${o.metadata.name} in ${o.metadata.namespace}`).toBe(
        `${o.kind}/${o.metadata.name} in ${
          o.metadata.name === leaseRole.metadata.name
            ? leaseRole.metadata.namespace
            : namespace.metadata.name
        }`,
      );
    }
    for (const o of objects.filter(x => x.kind.endsWith('Binding'))) {
      expect(o.subjects).toEqual([
        {
          kind: 'ServiceAccount',
          name: serviceAccount.metadata.name,
          namespace: serviceAccount.metadata.namespace,
        },
      ]);
    }
  });

  it('keeps the PostgreSQL password out of the build: the example Secret has the variables the production config reads', () => {
    expect(objects.filter(o => o.kind === 'Secret')).toEqual([]);
    const production = fs.readFileSync(
      path.join(ROOT, 'app-config.production.yaml'),
      'utf8',
    );
    const wanted = [
      ...new Set(
        [...production.matchAll(/\$\{(POSTGRES_[A-Z]+)\}/g)].map(m => m[1]),
      ),
    ].sort();
    expect(wanted).toEqual([
      'POSTGRES_HOST',
      'POSTGRES_PASSWORD',
      'POSTGRES_PORT',
      'POSTGRES_USER',
    ]);
    expect(Object.keys(secretExample.stringData).sort()).toEqual(wanted);
    expect(secretExample.metadata.namespace).toBe(namespace.metadata.name);
  });

  it('gives the pod a config that reaches its cluster with the pod token, PostgreSQL from the Secret, and the Lease namespace of the RBAC', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeai-deploy-'));
    try {
      const mounted = path.join(dir, configFile.key);
      fs.writeFileSync(mounted, configFile.configMap.data[configFile.key]);
      const tokenFile = path.join(dir, 'token');
      fs.writeFileSync(tokenFile, 'pod-token\n');
      const env: Record<string, string> = {
        ...theObject('ConfigMap', 'kubeai-portal-env').data,
        ...secretExample.stringData,
      };
      const source = ConfigSources.merge(
        [
          path.join(ROOT, 'app-config.yaml'),
          path.join(ROOT, 'app-config.production.yaml'),
          mounted,
        ].map(file =>
          FileConfigSource.create({
            path: file,
            watch: false,
            substitutionFunc: async name => env[name],
          }),
        ),
      );
      const config = await ConfigSources.toConfig(source);
      try {
        const clusters = readClusterConnections(config, undefined, {
          inClusterTokenFile: tokenFile,
        });
        expect(clusters).toEqual([
          expect.objectContaining({
            name: 'in-cluster',
            url: 'https://kubernetes.default.svc',
            token: 'pod-token',
            caFile: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt',
          }),
        ]);
        expect(config.getString('backend.database.client')).toBe('pg');
        expect(config.get('backend.database.connection')).toMatchObject({
          host: env.POSTGRES_HOST,
          port: env.POSTGRES_PORT,
          user: env.POSTGRES_USER,
          password: env.POSTGRES_PASSWORD,
        });
        // run pods in any namespace reach the API through the Service
        const apiUrl = new URL(
          config.getString('kubeai.runCredentials.apiUrl'),
        );
        expect(apiUrl.hostname).toBe(
          `${service.metadata.name}.${service.metadata.namespace}.svc`,
        );
        expect(Number(apiUrl.port)).toBe(service.spec.ports[0].port);
        expect(
          config.getOptionalString('kubeai.leaderElection.leaseNamespace') ??
            'kube-system',
        ).toBe(leaseRole.metadata.namespace);
        expect(
          config.getOptionalBoolean('kubeai.leaderElection.enabled'),
        ).not.toBe(false);
      } finally {
        config.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('deploy/ on the local control plane', () => {
  const suffix = randomBytes(3).toString('hex');
  /** Where the portal's namespaced objects go instead of `kubeai` (a dry run needs it to exist). */
  const testNamespace = `kubeai-deploy-${suffix}`;
  /** What this test created for real outside its namespace, deleted at the end. */
  const created: string[] = [];
  const admin = kubeClient();

  beforeAll(async () => {
    await createNamespace(admin, testNamespace, {});
  });

  afterAll(async () => {
    try {
      for (const at of created.reverse()) {
        const res = await kube('DELETE', at);
        if (res.status !== 200 && res.status !== 404) {
          throw new Error(`DELETE ${at}: HTTP ${res.status}`);
        }
      }
    } finally {
      await purgeNamespaces(testNamespace);
      admin.close();
    }
  });

  it('accepts every object in a server-side dry-run apply and stores none of them', async () => {
    const retarget = (o: KubeObject): KubeObject =>
      o.metadata.namespace === namespace.metadata.name
        ? { ...o, metadata: { ...o.metadata, namespace: testNamespace } }
        : o;
    const targets = await Promise.all(
      objects.map(async o => {
        const { url, body } = await served(retarget(o));
        return { o: body, url };
      }),
    );
    const before = await Promise.all(
      targets.map(
        async t =>
          (await kube('GET', t.url)).body?.metadata?.resourceVersion ??
          'absent',
      ),
    );
    const types = await namespacedResourceTypes(admin);
    const inNamespace = await snapshotObjects(admin, types, [testNamespace]);

    const answers: string[] = [];
    for (const { o, url } of targets) {
      const res = await kube(
        'PATCH',
        `${url}?dryRun=All&fieldManager=kubeai-deploy&force=true`,
        o,
        'application/apply-patch+yaml',
      );
      // accepted: the answer is what the apiserver would have stored (the object, defaulted)
      answers.push(
        `${o.kind}/${o.metadata.name}: ${
          res.status < 300
            ? `${res.status} ${res.body.kind}/${res.body.metadata.name}`
            : `${res.status} ${res.body?.message ?? JSON.stringify(res.body)}`
        }`,
      );
    }
    expect(answers).toEqual(
      targets.map(({ o }) =>
        expect.stringMatching(
          new RegExp(
            `^${o.kind}/${o.metadata.name}: 20[01] ${o.kind}/${o.metadata.name}$`,
          ),
        ),
      ),
    );

    // a dry run writes nothing: each object as before (absent, e.g. the namespace `kubeai`)
    const after = await Promise.all(
      targets.map(
        async t =>
          (await kube('GET', t.url)).body?.metadata?.resourceVersion ??
          'absent',
      ),
    );
    expect(after).toEqual(before);
    expect(
      (await kube('GET', `/api/v1/namespaces/${namespace.metadata.name}`))
        .status,
    ).toBe(404);
    expect(await snapshotObjects(admin, types, [testNamespace])).toEqual(
      inNamespace,
    );
  });

  it('grants the service account what the portal does, bound for real to a throwaway account', async () => {
    // deploy/'s RBAC with names of this run, for a service account in the test namespace
    const renamed = (name: string) => `${name}-${suffix}`;
    const sa = {
      ...serviceAccount,
      metadata: { ...serviceAccount.metadata, namespace: testNamespace },
    };
    const rbac = objects
      .filter(o => /^(Cluster)?Role(Binding)?$/.test(o.kind))
      .map(o => ({
        ...o,
        metadata: { ...o.metadata, name: renamed(o.metadata.name) },
        ...(o.roleRef
          ? { roleRef: { ...o.roleRef, name: renamed(o.roleRef.name) } }
          : {}),
        ...(o.subjects
          ? {
              subjects: o.subjects.map((s: any) => ({
                ...s,
                namespace: testNamespace,
              })),
            }
          : {}),
      }));
    // roles first (a binding names an existing role), the account last (the bindings do not need it)
    for (const o of [
      ...rbac.filter(x => !x.roleRef),
      ...rbac.filter(x => x.roleRef),
      sa,
    ]) {
      const { url, body } = await served(o);
      const res = await kube('POST', url.slice(0, url.lastIndexOf('/')), body);
      expect(`${o.kind}/${o.metadata.name}: ${res.status}`).toBe(
        `${o.kind}/${o.metadata.name}: 201`,
      );
      if (o !== sa) created.push(url);
    }

    const user = `system:serviceaccount:${testNamespace}:${sa.metadata.name}`;
    const may = async (
      who: string,
      verb: string,
      group: string,
      resource: string,
      where?: string,
    ): Promise<string> => {
      const [plural, subresource] = resource.split('/');
      const res = await kube(
        'POST',
        '/apis/authorization.k8s.io/v1/subjectaccessreviews',
        {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user: who,
            groups: [
              'system:serviceaccounts',
              `system:serviceaccounts:${testNamespace}`,
              'system:authenticated',
            ],
            resourceAttributes: {
              verb,
              group,
              resource: plural,
              ...(subresource ? { subresource } : {}),
              ...(where ? { namespace: where } : {}),
            },
          },
        },
      );
      expect(res.status).toBe(201);
      return `${verb} ${group || 'core'}/${resource}${
        where ? ` in ${where}` : ''
      }: ${res.body.status.allowed ? 'allowed' : 'denied'}`;
    };
    const expectAll = async (
      checks: Array<
        [verb: string, group: string, resource: string, where?: string]
      >,
      outcome: 'allowed' | 'denied',
    ) => {
      const got = await Promise.all(checks.map(c => may(user, ...c)));
      expect(got).toEqual(
        checks.map(
          ([v, g, r, w]) =>
            `${v} ${g || 'core'}/${r}${w ? ` in ${w}` : ''}: ${outcome}`,
        ),
      );
    };

    // the authorizer sees new bindings after its informers caught up
    const first = OBSERVED_KINDS[0];
    const firstPlural = clusterKindSpec(first.kind)!.plural;
    for (let i = 0; ; i++) {
      if (
        (await may(user, 'list', first.group, firstPlural)).endsWith('allowed')
      )
        break;
      if (i >= 100) throw new Error('the RBAC bindings never took effect');
      await new Promise(r => setTimeout(r, 100));
    }

    // an account without these bindings may do none of it (the reviews can say no)
    expect(
      await may(
        `system:serviceaccount:${testNamespace}:nobody`,
        'list',
        first.group,
        firstPlural,
      ),
    ).toMatch(/denied$/);

    // the informers list and watch every observed kind in every namespace (kinds.ts)
    const team = 'cv-team';
    await expectAll(
      OBSERVED_KINDS.flatMap(k => {
        const plural = clusterKindSpec(k.kind)!.plural;
        return [
          ['list', k.group, plural],
          ['watch', k.group, plural],
          ['get', k.group, plural, team],
        ] as Array<[string, string, string, string?]>;
      }),
      'allowed',
    );

    // server-side apply (create + patch) and delete of every kind the portal writes and of the
    // companions created and deleted with them (the workload table; companions' plurals by discovery)
    const written = new Map<string, [string, string]>();
    // (not the Kueue objects of the table: the informers only read them, Kueue makes the Workloads)
    for (const kind of (CLUSTER_KINDS as ClusterKind[]).filter(
      k => !(k in QUEUE_OBJECTS),
    )) {
      const spec = clusterKindSpec(kind)!;
      written.set(`${spec.group} ${spec.plural}`, [spec.group, spec.plural]);
      for (const c of spec.companions) {
        const r = await resourceOf(
          c.group ? `${c.group}/${c.version}` : c.version,
          c.kind,
        );
        if (!r)
          throw new Error(
            `the local control plane does not serve companion ${c.kind} (${c.group}/${c.version})`,
          );
        written.set(`${c.group} ${r.plural}`, [c.group, r.plural]);
      }
    }
    await expectAll(
      [...written.values()].flatMap(([group, plural]) =>
        ['create', 'patch', 'delete', 'get'].map(
          verb =>
            [verb, group, plural, team] as [string, string, string, string],
        ),
      ),
      'allowed',
    );

    // run logs, the namespace pickers, run credential Secrets, impersonation, the informer Lease
    const leaseNs = leaseRole.metadata.namespace;
    await expectAll(
      [
        ['list', '', 'pods', team],
        ['get', '', 'pods/log', team],
        ['list', '', 'namespaces'],
        ['watch', '', 'namespaces'],
        ['get', '', 'secrets', team],
        ['create', '', 'secrets', team],
        ['patch', '', 'secrets', team],
        ['delete', '', 'secrets', team],
        ['impersonate', '', 'users'],
        ['impersonate', '', 'groups'],
        ...['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'].map(
          verb =>
            [verb, 'coordination.k8s.io', 'leases', leaseNs] as [
              string,
              string,
              string,
              string,
            ],
        ),
      ],
      'allowed',
    );
    // no more than that where the portal needs less
    await expectAll(
      [
        ['list', '', 'secrets', team],
        ['list', '', 'secrets'],
        ['update', 'coordination.k8s.io', 'leases', 'default'],
        ['create', 'coordination.k8s.io', 'leases', team],
        ['impersonate', '', 'serviceaccounts', team],
        ['create', 'rbac.authorization.k8s.io', 'rolebindings', team],
        ['delete', '', 'namespaces'],
      ],
      'denied',
    );
  });
});
