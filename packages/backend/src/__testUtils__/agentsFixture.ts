/*
 * The portal of agents.test.ts and externalCallers.test.ts (issue 18): two teams (cv-team: alice,
 * search-reco: bob) owning a namespace each, a model of cv-team's with v1 deployed to its namespace,
 * and callers from outside (`backend.auth.externalAccess`): a reader, a platform mapped to cv-team
 * (`cv-platform`), one mapped to nobody, the production file's static entry (`order-platform`, its
 * restrictions as shipped, mapped to cv-team here) and its two JWKS entries (agents, platforms)
 * signed by a local identity provider. `useAgentsPortal()` starts it before the file's tests and
 * removes everything after them.
 */
import { TestDatabases } from '@backstage/backend-test-utils';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { type AgentPortal, startAgentPortal } from './agentPortal';
import {
  createNamespace,
  kubeClient,
  namespacedResourceTypes,
  purgeNamespaces,
  type ResourceType,
  snapshotObjects,
} from './localCluster';
import {
  type Knex,
  must,
  snapshotRegistry,
  waitForCatalog,
} from './portalBackend';
import { realAuth } from './realAuth';
import { agentIssuer, fromAppConfig } from './externalCallers';

export const CV_GROUP = 'group:default/cv-team';
export const SEARCH_GROUP = 'group:default/search-reco';
export const ALICE = 'user:default/alice'; // cv-team
export const BOB = 'user:default/bob'; // search-reco

/** What a static token mapped to cv-team is granted in these tests. */
export const WRITES = [
  'kubeai.cluster.object.create',
  'kubeai.deployment.create',
  'kubeai.deployment.update',
  'kubeai.model.version.create',
];

/** Registers the portal's start and removal around the calling test file's tests. */
export function useAgentsPortal(label: string) {
  const suffix = randomBytes(3).toString('hex');
  const MODEL = `${label}-model-${suffix}`;
  const names = {
    suffix,
    CV_NS: `kubeai-${label}-cv-${suffix}`,
    SEARCH_NS: `kubeai-${label}-search-${suffix}`,
    MODEL,
    MODEL_REF: `model:default/${MODEL}`,
    SERVICE: `${label}-svc-${suffix}`,
    READER_TOKEN: randomBytes(24).toString('hex'),
    CV_PLATFORM_TOKEN: randomBytes(24).toString('hex'),
    UNMAPPED_TOKEN: randomBytes(24).toString('hex'),
    /** The token of app-config.production.yaml's static entry (`order-platform`). */
    ORDER_PLATFORM_TOKEN: randomBytes(24).toString('hex'),
    issuer: agentIssuer(),
    kube: kubeClient(),
  };
  /** Set before the tests run. */
  const state = {
    portal: undefined as unknown as AgentPortal,
    knex: undefined as unknown as Knex,
    mcpActions: {} as Record<string, any>,
    resourceTypes: [] as ResourceType[],
  };
  const helpers = {
    /** Everything a write could change: the registry's rows and the objects of both namespaces. */
    async snapshot() {
      return {
        registry: await snapshotRegistry(state.knex),
        objects: await snapshotObjects(names.kube, state.resourceTypes, [
          names.CV_NS,
          names.SEARCH_NS,
        ]),
      };
    },

    /** A request with a bearer token. */
    async asToken(
      token: string,
      method: 'get' | 'post' | 'delete',
      apiPath: string,
      body?: object,
    ): Promise<{ status: number; body: any }> {
      let req = request(state.portal.server)
        [method](apiPath)
        .set('Authorization', `Bearer ${token}`);
      if (body) req = req.send(body);
      const res = await req;
      return { status: res.status, body: res.body };
    },

    /** An MCP client of the portal with `token`. */
    async mcpClient(token: string): Promise<Client> {
      const client = new Client({
        name: 'kubeai-agents-test',
        version: '1.0.0',
      });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(state.portal.mcpUrl), {
          requestInit: { headers: { Authorization: `Bearer ${token}` } },
        }),
      );
      return client;
    },

    /** A deployment of the model's v1 as `name` in `namespace`. */
    deployInput: (namespace: string, name = names.SERVICE) => ({
      cluster: 'local',
      namespace,
      name,
      model: names.MODEL_REF,
      modelVersion: 1,
      serviceRef: `inferenceservice:default/${name}`,
    }),
  };
  const f = Object.assign(state, names, helpers);
  const identities = realAuth({
    [ALICE]: [ALICE, CV_GROUP],
    [BOB]: [BOB, SEARCH_GROUP],
  });
  const databases = TestDatabases.create({ ids: ['SQLITE_3'] });
  let scratch: string | undefined;

  beforeAll(async () => {
    await createNamespace(f.kube, f.CV_NS, {
      'kubeai.io/owner': 'group-default-cv-team',
    });
    await createNamespace(f.kube, f.SEARCH_NS, {
      'kubeai.io/owner': 'group-default-search-reco',
    });
    f.resourceTypes = await namespacedResourceTypes(f.kube);
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), `kubeai-${label}-`));
    const entitiesFile = path.join(scratch, 'entities.yaml');
    fs.writeFileSync(
      entitiesFile,
      catalogOf(f)
        .map(d => JSON.stringify(d))
        .join('\n---\n'),
    );
    const jwksUrl = await f.issuer.start();
    f.knex = await databases.init('SQLITE_3');
    // what agents are told (app-config.yaml), which actions production leaves out of the registry
    f.mcpActions = await fromAppConfig('app-config.yaml', 'mcpActions');
    const actionsFilter = await fromAppConfig(
      'app-config.production.yaml',
      'backend.actions.filter',
    );
    // the entries as production has them (app-config.production.yaml): the static token of a
    // business platform, and the identity provider's agents (MCP) and platforms (named permissions)
    const production = (await fromAppConfig(
      'app-config.production.yaml',
      'backend.auth.externalAccess',
    )) as any[];
    const productionJwks = production
      .filter(entry => entry.type === 'jwks')
      .map(entry => ({
        ...entry,
        options: {
          ...entry.options,
          url: jwksUrl,
          issuer: 'https://agents.example.com',
          algorithm: 'ES256',
        },
      }));
    const audiences = productionJwks.map(e => e.options.audience).join(', ');
    if (audiences !== 'kubeai-agents, kubeai-api') {
      throw new Error(
        `app-config.production.yaml: the JWKS entries are ${audiences}; these tests expect kubeai-agents, kubeai-api`,
      );
    }
    const productionStatic = production.filter(e => e.type === 'static');
    if (productionStatic[0]?.options?.subject !== 'order-platform') {
      throw new Error(
        'app-config.production.yaml: these tests expect one static entry, order-platform',
      );
    }
    const catalogAndKubeai = (kubeai: object) => [
      { plugin: 'kubeai', ...kubeai },
      // the KubeAI API looks entities up in the catalog on the caller's behalf
      { plugin: 'catalog' },
    ];
    f.portal = await startAgentPortal({
      kubeaiDatabase: f.knex,
      newDatabase: () => databases.init('SQLITE_3'),
      identities,
      entitiesFile,
      workingDirectory: scratch,
      externalAccess: [
        {
          type: 'static',
          options: { token: f.READER_TOKEN, subject: 'reporting-platform' },
          accessRestrictions: catalogAndKubeai({
            permission: ['kubeai.run.logs.read'],
          }),
        },
        {
          type: 'static',
          options: { token: f.CV_PLATFORM_TOKEN, subject: 'cv-platform' },
          accessRestrictions: catalogAndKubeai({ permission: WRITES }),
        },
        {
          type: 'static',
          options: { token: f.UNMAPPED_TOKEN, subject: 'other-platform' },
          accessRestrictions: catalogAndKubeai({ permission: WRITES }),
        },
        {
          ...productionStatic[0],
          options: {
            ...productionStatic[0].options,
            token: f.ORDER_PLATFORM_TOKEN,
          },
        },
        ...productionJwks,
      ],
      mcpActions: f.mcpActions,
      actionsFilter,
      tenancy: {
        platformAdmins: [],
        serviceTeams: [
          { subject: 'cv-platform', team: CV_GROUP },
          { subject: 'order-platform', team: CV_GROUP },
          { subject: 'external:platforms:billing', team: CV_GROUP },
        ],
      },
      // a price per core- and GiB-hour and a budget for cv-team, for the team usage tool
      cost: {
        currency: 'EUR',
        default: { cpuHour: 0.05, memoryGiBHour: 0.01, gpuHour: 2 },
        budgets: [{ team: CV_GROUP, monthly: 10 }],
      },
    });
    await waitForCatalog(f.portal, ALICE, [
      f.MODEL_REF,
      `inferenceservice:default/${f.SERVICE}`,
      `inferenceservice:default/${f.SERVICE}-x`,
      CV_GROUP,
    ]);
    // v1 of the model, deployed by its team to its namespace
    await must(
      f.portal,
      ALICE,
      'post',
      `/api/kubeai/models/default/${f.MODEL}/versions`,
      {
        artifact: {
          uri: `s3://models/${f.MODEL}/1/model.onnx`,
          format: 'onnx',
        },
      },
    );
    await must(
      f.portal,
      ALICE,
      'post',
      '/api/kubeai/inference-services',
      f.deployInput(f.CV_NS),
    );
  });

  afterAll(async () => {
    await f.portal?.stop();
    await f.issuer.stop();
    await purgeNamespaces(f.CV_NS, f.SEARCH_NS);
    f.kube.close();
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  });

  return f;
}

/** The catalog: the two teams and their people, the model, a service in each namespace. */
function catalogOf(f: {
  MODEL: string;
  MODEL_REF: string;
  SERVICE: string;
  CV_NS: string;
  SEARCH_NS: string;
}) {
  return [
    ...['cv-team', 'search-reco'].map(name => ({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Group',
      metadata: { name },
      spec: { type: 'team', children: [] },
    })),
    ...[
      ['alice', 'cv-team'],
      ['bob', 'search-reco'],
    ].map(([name, group]) => ({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'User',
      metadata: { name },
      spec: { memberOf: [group] },
    })),
    {
      apiVersion: 'kubeai.io/v1alpha1',
      kind: 'Model',
      metadata: { name: f.MODEL },
      spec: {
        lifecycle: 'experimental',
        type: 'classification',
        framework: 'pytorch',
        owner: CV_GROUP,
      },
    },
    ...[
      [f.SERVICE, f.CV_NS],
      [`${f.SERVICE}-x`, f.SEARCH_NS],
    ].map(([name, namespace]) => ({
      apiVersion: 'kubeai.io/v1alpha1',
      kind: 'InferenceService',
      metadata: { name },
      spec: {
        lifecycle: 'experimental',
        owner: CV_GROUP,
        model: f.MODEL_REF,
        deployment: { cluster: 'local', namespace, name },
      },
    })),
  ];
}
