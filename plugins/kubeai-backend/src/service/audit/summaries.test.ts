/*
 * Audit summaries: every mutating operation of the spec has one (a new route must add its line),
 * and refused requests with any body still make a short event with only well-formed places.
 */
import { matchOperation, mutatingOperationIds } from './operations';
import { describe as describeRequest, describedOperations } from './summaries';

const facts = (operationId: string, body: unknown, extra: object = {}) => ({
  operationId,
  params: {},
  query: {},
  body,
  response: undefined,
  details: {},
  ...extra,
});

it('has a summary for every mutating operation of the spec', () => {
  expect(mutatingOperationIds.length).toBeGreaterThanOrEqual(20);
  expect(
    mutatingOperationIds.filter(id => !describedOperations.includes(id)),
  ).toEqual([]);
});

it('matches requests to operations, literal paths first', () => {
  expect(matchOperation('POST', '/jobs/batch')?.operationId).toBe('createJobs');
  expect(
    matchOperation('DELETE', '/clusters/local/namespaces/team-a/jobs/t%2F1'),
  ).toEqual({
    operationId: 'deleteJob',
    method: 'DELETE',
    params: { cluster: 'local', namespace: 'team-a', name: 't/1' },
  });
  expect(matchOperation('GET', '/jobs')).toBeUndefined();
  expect(matchOperation('POST', '/nothing-here')).toBeUndefined();
});

it('keeps a refused body out of the places and shortens it in the summary', () => {
  const long = 'x'.repeat(70_000);
  const described = describeRequest(
    facts('deployInferenceService', {
      cluster: `local; rm -rf /`,
      namespace: 'Team_A',
      name: long,
      model: 'model:default/../../etc',
      modelVersion: { $gt: 1 },
      canaryTrafficPercent: -5,
      serviceRef: 42,
    }),
    false,
  );
  expect(described.summary).toBe(
    `deploy model:default/../../etc to ${'x'.repeat(80)}…`,
  );
  expect(described).not.toHaveProperty('cluster');
  expect(described).not.toHaveProperty('namespace');
  expect(described.entityRefs).toEqual([]);
  expect(described).not.toHaveProperty('modelVersion');
});

it('reads bodies that are not objects', () => {
  for (const body of [undefined, null, 'text', [1, 2], 7]) {
    for (const id of describedOperations) {
      const described = describeRequest(facts(id, body), false);
      expect(typeof described.summary).toBe('string');
      expect(described.dryRun).toBe(false);
    }
  }
});

it('flags dry runs of bodies and of queries', () => {
  expect(
    describeRequest(facts('createNotebook', { name: 'nb', dryRun: true }), true)
      .summary,
  ).toBe('dry run: create notebook nb');
  expect(
    describeRequest(
      facts('deletePipeline', undefined, {
        params: { cluster: 'local', namespace: 'team-a', name: 'p' },
        query: { dryRun: 'true' },
      }),
      true,
    ),
  ).toEqual({
    summary: 'dry run: delete pipeline p',
    dryRun: true,
    cluster: 'local',
    namespace: 'team-a',
    entityRefs: [],
    runIds: [],
  });
});

it('says what a batch did when it succeeded', () => {
  const body = {
    items: [1, 2, 3].map(i => ({
      cluster: 'local',
      namespace: 'team-a',
      name: `t-${i}`,
      kind: 'CronJob',
      modelRef: 'model:default/forecast',
    })),
  };
  const response = {
    created: 2,
    failed: 1,
    items: [
      { runId: '6f1c2a0e-3b7d-4c55-9d7e-0a8b1f2c3d4e' },
      { runId: 'not-a-run' },
    ],
  };
  expect(
    describeRequest(facts('createJobs', body, { response }), true),
  ).toEqual({
    summary: 'created 2 of 3 training tasks (1 refused by the cluster)',
    dryRun: false,
    cluster: 'local',
    namespace: 'team-a',
    entityRefs: ['model:default/forecast'],
    runIds: ['6f1c2a0e-3b7d-4c55-9d7e-0a8b1f2c3d4e'],
  });
  expect(describeRequest(facts('createJobs', body), false).summary).toBe(
    'create 3 training tasks',
  );
});

it('says which pools and quotas a platform admin applied', () => {
  const body = {
    cluster: 'local',
    flavors: [{ name: 'elastic' }, { name: 'regular' }],
    teams: [{ name: 'cv-team', namespaces: ['team-a'], quotas: [] }],
  };
  expect(describeRequest(facts('applyPools', body), true)).toMatchObject({
    summary:
      'applied pools and quotas (flavors elastic, regular; team queues cv-team)',
    cluster: 'local',
  });
});
