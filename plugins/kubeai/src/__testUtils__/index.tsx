/* Test helpers: sample registry data, a stubbed KubeaiApi and a render with the app's APIs. */
import { ReactNode } from 'react';
import { Entity } from '@backstage/catalog-model';
import { configApiRef } from '@backstage/core-plugin-api';
import {
  mockApis,
  renderInTestApp,
  TestApiProvider,
} from '@backstage/test-utils';
import {
  catalogApiRef,
  EntityProvider,
  entityRouteRef,
} from '@backstage/plugin-catalog-react';
import { catalogApiMock } from '@backstage/plugin-catalog-react/testUtils';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import {
  AuthorizeResult,
  type EvaluatePermissionRequest,
} from '@backstage/plugin-permission-common';
import { ResponseError } from '@backstage/errors';
import {
  kubeaiOperationIds,
  type Deployment,
  type DeploymentRevision,
  type KubeaiApi,
  type ModelVersion,
  type Run,
} from '@kubeai/plugin-kubeai-common';
import { inferenceServiceActionsApiRef, kubeaiApiRef } from '../api/refs';
import type { InferenceServiceActions } from '../api/InferenceServiceActions';

/** A KubeaiApi whose every method is a jest mock (rejecting unless overridden). */
export function mockKubeaiApi(
  overrides: Partial<Record<keyof KubeaiApi, jest.Mock>> = {},
): jest.Mocked<KubeaiApi> {
  // Every operation of the spec (the generated client's methods) and the streamed logs.
  const methods: Array<keyof KubeaiApi> = [
    ...kubeaiOperationIds,
    'followRunLogs',
  ];
  const api: Record<string, jest.Mock> = {};
  const overridden = Object.keys(overrides) as Array<keyof KubeaiApi>;
  for (const m of [...methods, ...overridden]) {
    api[m] =
      overrides[m] ??
      jest.fn().mockRejectedValue(new Error(`${m} was not stubbed`));
  }
  return api as unknown as jest.Mocked<KubeaiApi>;
}

/** A `ResponseError` as the client throws it. */
export async function responseError(status: number, message: string) {
  return ResponseError.fromResponse(
    new Response(
      JSON.stringify({
        error: { name: status === 404 ? 'NotFoundError' : 'Error', message },
        response: { statusCode: status },
      }),
      {
        status,
        statusText: status === 404 ? 'Not Found' : 'Error',
        headers: { 'content-type': 'application/json' },
      },
    ) as any,
  );
}

export const modelEntity: Entity = {
  apiVersion: 'kubeai.io/v1alpha1',
  kind: 'Model',
  metadata: { name: 'ranker', namespace: 'default' },
  spec: {
    type: 'ranking',
    framework: 'tensorflow',
    owner: 'search-reco',
    lifecycle: 'production',
  },
  relations: [{ type: 'ownedBy', targetRef: 'group:default/search-reco' }],
};

export const datasetEntity: Entity = {
  apiVersion: 'kubeai.io/v1alpha1',
  kind: 'Dataset',
  metadata: { name: 'clicks', namespace: 'default' },
  spec: {
    owner: 'data-eng',
    lifecycle: 'production',
    source: { type: 'table', engine: 'odps', project: 'dw', table: 'clicks' },
    cache: { engine: 'alluxio', capacity: '500Gi', medium: 'SSD' },
  },
};

export const serviceEntity: Entity = {
  apiVersion: 'kubeai.io/v1alpha1',
  kind: 'InferenceService',
  metadata: { name: 'ranker-serving', namespace: 'default' },
  spec: {
    owner: 'search-reco',
    lifecycle: 'production',
    model: 'ranker',
  },
  relations: [{ type: 'servesModel', targetRef: 'model:default/ranker' }],
};

export function modelVersion(
  version: number,
  extra: Partial<ModelVersion> = {},
): ModelVersion {
  return {
    modelRef: 'model:default/ranker',
    version,
    artifact: { uri: `s3://models/ranker/${version}`, format: 'savedmodel' },
    framework: 'tensorflow',
    metrics: { auc: 0.8 + version / 100, f1: 0.6 },
    curves: {
      roc: [
        { fpr: 0, tpr: 0 },
        { fpr: 0.2, tpr: 0.7 },
        { fpr: 1, tpr: 1 },
      ],
      pr: [
        { recall: 0, precision: 1 },
        { recall: 0.5, precision: 0.8 },
        { recall: 1, precision: 0.4 },
      ],
    },
    params: {},
    tags: [],
    aliases: [],
    state: 'live',
    runId: `run-${version}`,
    createdBy: 'user:default/alice',
    createdAt: '2026-11-20T10:00:00.000Z',
    updatedAt: '2026-11-20T10:00:00.000Z',
    ...extra,
  };
}

export function run(id: string, extra: Partial<Run> = {}): Run {
  return {
    id,
    kind: 'training',
    cluster: 'local',
    namespace: 'ml',
    name: `train-${id}`,
    phase: 'Succeeded',
    startedAt: '2026-11-20T10:00:00.000Z',
    finishedAt: '2026-11-20T11:30:00.000Z',
    inputs: [{ datasetRef: 'dataset:default/clicks', version: '2026-11-19' }],
    outputs: [{ modelRef: 'model:default/ranker', version: 3 }],
    params: { lr: 0.01, epochs: 5 },
    modelRef: 'model:default/ranker',
    createdBy: 'user:default/alice',
    createdAt: '2026-11-20T09:59:00.000Z',
    updatedAt: '2026-11-20T11:30:00.000Z',
    ...extra,
  };
}

export function deployment(extra: Partial<Deployment> = {}): Deployment {
  return {
    serviceRef: 'inferenceservice:default/ranker-serving',
    cluster: 'local',
    namespace: 'serving',
    name: 'ranker',
    modelRef: 'model:default/ranker',
    traffic: [
      { version: 3, percent: 90 },
      { version: 4, percent: 10 },
    ],
    revision: 2,
    desired: {},
    observed: {
      phase: 'Ready',
      url: 'https://ranker.serving.example.com',
    },
    observedAt: '2026-11-21T08:00:00.000Z',
    createdAt: '2026-11-20T12:00:00.000Z',
    updatedAt: '2026-11-21T07:00:00.000Z',
    updatedBy: 'user:default/alice',
    ...extra,
  };
}

export function revision(
  n: number,
  traffic: DeploymentRevision['traffic'],
): DeploymentRevision {
  return {
    serviceRef: 'inferenceservice:default/ranker-serving',
    revision: n,
    modelRef: 'model:default/ranker',
    traffic,
    desired: {},
    message: `change ${n}`,
    createdBy: 'user:default/alice',
    createdAt: `2026-11-2${n}T07:00:00.000Z`,
  };
}

/** Options of {@link renderWithApis}. */
export interface RenderOptions {
  kubeai?: KubeaiApi;
  entities?: Entity[];
  entity?: Entity;
  /** Every decision, or one per request (e.g. deny only one permission or resource). */
  permission?:
    | 'allow'
    | 'deny'
    | ((request: EvaluatePermissionRequest) => 'allow' | 'deny');
  actions?: InferenceServiceActions;
  config?: Record<string, unknown>;
  routeEntries?: string[];
}

/** Renders inside a test app with the KubeAI client stubbed at `kubeaiApiRef`. */
export function renderWithApis(
  element: ReactNode,
  options: RenderOptions = {},
) {
  const apis: Array<[any, any]> = [
    [kubeaiApiRef, options.kubeai ?? mockKubeaiApi()],
    [catalogApiRef, catalogApiMock({ entities: options.entities ?? [] })],
    [
      permissionApiRef,
      mockApis.permission({
        authorize: request => {
          const { permission } = options;
          const decision =
            typeof permission === 'function' ? permission(request) : permission;
          return decision === 'deny'
            ? AuthorizeResult.DENY
            : AuthorizeResult.ALLOW;
        },
      }),
    ],
    [configApiRef, mockApis.config({ data: (options.config ?? {}) as any })],
  ];
  if (options.actions) {
    apis.push([inferenceServiceActionsApiRef, options.actions]);
  }
  return renderInTestApp(
    <TestApiProvider apis={apis as any}>
      {options.entity ? (
        <EntityProvider entity={options.entity}>{element}</EntityProvider>
      ) : (
        element
      )}
    </TestApiProvider>,
    {
      mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef },
      routeEntries: options.routeEntries,
    },
  );
}
