/*
 * The audit trail, end to end on the local kube-apiserver (`yarn cluster:start`), with the
 * registry on SQLite and on PostgreSQL: a scripted sequence — register two model versions,
 * create a training task, deploy an inference service, roll a canary out by alias, a canary the
 * API refuses (400), promote, a dry-run delete, and a delete the permission policy denies — is
 * read back exactly through `GET /audit-events` (whole, filtered and paged), and Backstage's real
 * auditor service (its log lines, through a captured root logger) received the same events.
 */
import {
  coreServices,
  createServiceFactory,
  RootLoggerService,
} from '@backstage/backend-plugin-api';
import { mockServices, TestDatabaseId } from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import type { AuditEvent } from '@kubeai/plugin-kubeai-common';
import request from 'supertest';
import { POSTGRES_ID, postgresSupport } from '../__testUtils__/databases';
import {
  API,
  ARTIFACT,
  clusterRoutesSuite,
} from './__testUtils__/clusterRoutesSuite';

// The first import() of @kubernetes/client-node under jest's VM modules takes seconds.
jest.setTimeout(180_000);

const { NS, startBackend, databases } = clusterRoutesSuite('audit');

/** The policy: allows everything but the permissions named in `denied`. */
const policy = { denied: new Set<string>() };
const authorize = async (requests: { permission: { name: string } }[]) =>
  requests.map(r => ({
    result: policy.denied.has(r.permission.name)
      ? AuthorizeResult.DENY
      : AuthorizeResult.ALLOW,
  }));

/** A log line of the backend: its message and fields (child fields and meta merged). */
interface LogLine {
  message: string;
  fields: Record<string, any>;
}

function capturingLogger(
  lines: LogLine[],
  fields: Record<string, any> = {},
): RootLoggerService {
  const write = (message: string, meta?: Error | object) => {
    lines.push({
      message,
      fields: {
        ...fields,
        ...(meta instanceof Error ? { error: meta.message } : meta),
      },
    });
  };
  return {
    error: write,
    warn: write,
    info: write,
    debug: write,
    child: meta => capturingLogger(lines, { ...fields, ...meta }),
  };
}

it('has PostgreSQL', () => {
  expect(postgresSupport(databases)).toBe('ok');
});

const ACTOR = 'user:default/mock';

describe.each([
  ['SQLite', 'SQLITE_3' as TestDatabaseId, 'sq'],
  ['PostgreSQL', POSTGRES_ID, 'pg'],
])('the audit trail (%s registry)', (_name, databaseId, tag) => {
  const logs: LogLine[] = [];
  let server: Awaited<ReturnType<typeof startBackend>>['server'];
  let stop = async () => {};

  beforeAll(async () => {
    const knex = await databases.init(databaseId);
    const backend = await startBackend(knex, [
      mockServices.permissions.mock({ authorize } as never).factory,
      createServiceFactory({
        service: coreServices.rootLogger,
        deps: {},
        factory: () => capturingLogger(logs),
      }),
    ]);
    server = backend.server;
    stop = () => backend.stop();
  });
  afterAll(() => stop());

  const SERVICE = `svc-${tag}`;
  const TASK = `train-${tag}`;
  const SERVICE_REF = `inferenceservice:default/${SERVICE}`;
  const MODEL_REF = 'model:default/shoe-brand';
  const deploy = {
    cluster: 'local',
    namespace: NS,
    name: SERVICE,
    model: MODEL_REF,
    modelVersion: 1,
    catalogEntity: { owner: 'group:default/cv-team' },
  };

  /** What the sequence answered, for the events' run id and error messages. */
  const seen = { runId: '', badCanary: '', denied: '' };

  it('runs the scripted sequence', async () => {
    const send = async (
      req: request.Test,
      status: number,
    ): Promise<request.Response> => {
      const res = await req;
      if (res.status !== status) {
        throw new Error(`expected ${status}, got ${res.status}: ${res.text}`);
      }
      return res;
    };
    for (const v of [1, 2]) {
      await send(
        request(server)
          .post(`${API}/models/default/shoe-brand/versions`)
          .send({
            artifact: ARTIFACT(v),
            ...(v === 2 ? { aliases: ['candidate'] } : {}),
          }),
        201,
      );
    }
    const task = await send(
      request(server)
        .post(`${API}/jobs`)
        .send({
          cluster: 'local',
          namespace: NS,
          name: TASK,
          kind: 'Job',
          image: 'python:3.12',
          command: ['python', '-c', 'print(1)'],
          modelRef: MODEL_REF,
        }),
      201,
    );
    seen.runId = task.body.run.id;
    await send(
      request(server).post(`${API}/inference-services`).send(deploy),
      201,
    );
    await send(
      request(server)
        .post(`${API}/inference-services`)
        .send({
          ...deploy,
          modelVersion: 'candidate',
          canaryTrafficPercent: 10,
        }),
      201,
    );
    const bad = await send(
      request(server)
        .post(`${API}/inference-services`)
        .send({
          ...deploy,
          modelVersion: 'candidate',
          canaryTrafficPercent: 150,
        }),
      400,
    );
    seen.badCanary = bad.body.error.message;
    expect(seen.badCanary).toContain('request/body/canaryTrafficPercent');
    await send(
      request(server)
        .post(`${API}/inference-services/local/${NS}/${SERVICE}/promote`)
        .send({}),
      201,
    );
    await send(
      request(server)
        .delete(`${API}/clusters/local/namespaces/${NS}/jobs/${TASK}`)
        .query({ dryRun: true }),
      200,
    );
    policy.denied = new Set(['kubeai.cluster.object.delete']);
    try {
      const denied = await send(
        request(server).delete(
          `${API}/clusters/local/namespaces/${NS}/inference-services/${SERVICE}`,
        ),
        403,
      );
      seen.denied = denied.body.error.message;
    } finally {
      policy.denied = new Set();
    }
    expect(seen.denied).toBe(
      `kubeai.cluster.object.delete denied on local/${NS}`,
    );
  });

  /** The sequence's events, newest first, without their id and time. */
  const expected = (): Array<Omit<AuditEvent, 'id' | 'occurredAt'>> => {
    const where = { cluster: 'local', namespace: NS };
    const isvc = `/inference-services`;
    return [
      {
        actor: ACTOR,
        operationId: 'deleteInferenceService',
        method: 'DELETE',
        path: `/clusters/local/namespaces/${NS}/inference-services/${SERVICE}`,
        summary: `delete inference service ${SERVICE}`,
        outcome: 'denied',
        status: 403,
        error: seen.denied,
        dryRun: false,
        ...where,
        entityRefs: [SERVICE_REF],
        runIds: [],
      },
      {
        actor: ACTOR,
        operationId: 'deleteJob',
        method: 'DELETE',
        path: `/clusters/local/namespaces/${NS}/jobs/${TASK}`,
        summary: `dry run: delete training task ${TASK}`,
        outcome: 'succeeded',
        status: 200,
        dryRun: true,
        ...where,
        entityRefs: [],
        runIds: [seen.runId],
      },
      {
        actor: ACTOR,
        operationId: 'promoteInferenceService',
        method: 'POST',
        path: `/inference-services/local/${NS}/${SERVICE}/promote`,
        summary: `promoted shoe-brand v2 on ${SERVICE} to 100 %`,
        outcome: 'succeeded',
        status: 201,
        dryRun: false,
        ...where,
        entityRefs: [SERVICE_REF, MODEL_REF],
        runIds: [],
        modelVersion: 2,
      },
      {
        actor: ACTOR,
        operationId: 'deployInferenceService',
        method: 'POST',
        path: isvc,
        summary: `deploy shoe-brand 'candidate' to ${SERVICE} as canary 150 %`,
        outcome: 'failed',
        status: 400,
        error: seen.badCanary,
        dryRun: false,
        ...where,
        entityRefs: [SERVICE_REF, MODEL_REF],
        runIds: [],
      },
      {
        actor: ACTOR,
        operationId: 'deployInferenceService',
        method: 'POST',
        path: isvc,
        summary: `deployed shoe-brand v2 to ${SERVICE} as canary 10 %`,
        outcome: 'succeeded',
        status: 201,
        dryRun: false,
        ...where,
        entityRefs: [SERVICE_REF, MODEL_REF],
        runIds: [],
        modelVersion: 2,
      },
      {
        actor: ACTOR,
        operationId: 'deployInferenceService',
        method: 'POST',
        path: isvc,
        summary: `deployed shoe-brand v1 to ${SERVICE}`,
        outcome: 'succeeded',
        status: 201,
        dryRun: false,
        ...where,
        entityRefs: [SERVICE_REF, MODEL_REF],
        runIds: [],
        modelVersion: 1,
      },
      {
        actor: ACTOR,
        operationId: 'createJob',
        method: 'POST',
        path: '/jobs',
        summary: `created training task ${TASK} (Job)`,
        outcome: 'succeeded',
        status: 201,
        dryRun: false,
        ...where,
        entityRefs: [MODEL_REF],
        runIds: [seen.runId],
      },
      ...[2, 1].map(v => ({
        actor: ACTOR,
        operationId: 'createModelVersion',
        method: 'POST' as const,
        path: '/models/default/shoe-brand/versions',
        summary: `registered shoe-brand v${v}`,
        outcome: 'succeeded' as const,
        status: 201,
        dryRun: false,
        entityRefs: [MODEL_REF],
        runIds: [],
        modelVersion: v,
      })),
    ];
  };

  const list = async (query: Record<string, unknown> = {}) => {
    const res = await request(server).get(`${API}/audit-events`).query(query);
    expect(res.status).toBe(200);
    return res.body as { items: AuditEvent[]; nextBefore?: number };
  };
  const withoutIdAndTime = (items: AuditEvent[]) =>
    items.map(({ id: _id, occurredAt: _at, ...rest }) => rest);

  it('reads the sequence back exactly, newest first', async () => {
    const page = await list();
    expect(withoutIdAndTime(page.items)).toEqual(expected());
    expect(page.nextBefore).toBeUndefined();
    const ids = page.items.map(e => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(new Set(ids).size).toBe(ids.length);
    const times = page.items.map(e => e.occurredAt);
    expect(times).toEqual([...times].sort().reverse());
    expect(times.every(t => new Date(t).toISOString() === t)).toBe(true);
    // the reads of this test are not audited
    expect((await list()).items.length).toBe(expected().length);
  });

  it('filters by entity, run, actor, place and time, and pages with before', async () => {
    const all = withoutIdAndTime((await list()).items);
    const summaries = (items: AuditEvent[]) => items.map(e => e.summary);
    const byService = await list({
      entityRef: `InferenceService:default/${SERVICE.toUpperCase()}`,
    });
    expect(withoutIdAndTime(byService.items)).toEqual(
      all.filter(e => e.entityRefs.includes(SERVICE_REF)),
    );
    expect(byService.items.length).toBe(5);
    expect(summaries((await list({ runId: seen.runId })).items)).toEqual([
      `dry run: delete training task ${TASK}`,
      `created training task ${TASK} (Job)`,
    ]);
    expect((await list({ actor: ACTOR })).items.length).toBe(all.length);
    expect((await list({ actor: 'user:default/nobody' })).items).toEqual([]);
    expect((await list({ cluster: 'local', namespace: NS })).items.length).toBe(
      7,
    );
    expect((await list({ namespace: 'kubeai-elsewhere' })).items).toEqual([]);
    expect(
      summaries((await list({ entityRef: MODEL_REF, limit: 3 })).items),
    ).toEqual([
      `promoted shoe-brand v2 on ${SERVICE} to 100 %`,
      `deploy shoe-brand 'candidate' to ${SERVICE} as canary 150 %`,
      `deployed shoe-brand v2 to ${SERVICE} as canary 10 %`,
    ]);

    const paged: AuditEvent[] = [];
    let before: number | undefined;
    do {
      const page = await list({ limit: 3, ...(before ? { before } : {}) });
      expect(page.items.length).toBeLessThanOrEqual(3);
      paged.push(...page.items);
      before = page.nextBefore;
    } while (before);
    expect(withoutIdAndTime(paged)).toEqual(all);

    const full = (await list()).items;
    const older = await list({ beforeTime: full[2].occurredAt });
    expect(older.items.every(e => e.occurredAt < full[2].occurredAt)).toBe(
      true,
    );
    expect(older.items.map(e => e.id)).toEqual(
      full.filter(e => e.occurredAt < full[2].occurredAt).map(e => e.id),
    );
  });

  it('refuses bad query parameters, naming them', async () => {
    for (const [query, field] of [
      [{ limit: 501 }, 'request/query/limit'],
      [{ limit: 0 }, 'request/query/limit'],
      [{ before: 0 }, 'request/query/before'],
      [{ beforeTime: 'yesterday' }, 'request/query/beforeTime'],
      [{ entityRef: 'no-ref' }, 'request/query/entityRef'],
      [{ runId: 'not-a-uuid' }, 'request/query/runId'],
      [{ namespace: 'Not_A_Namespace' }, 'request/query/namespace'],
      [{ actor: '' }, 'request/query/actor'],
      [{ outcome: 'denied' }, 'outcome'],
    ] as const) {
      const res = await request(server).get(`${API}/audit-events`).query(query);
      expect([res.status, res.body.error?.message]).toEqual([
        400,
        expect.stringContaining(field),
      ]);
    }
  });

  it('told the auditor service the same events', async () => {
    const events = (await list()).items;
    const audits = () =>
      logs.filter(
        l => l.fields.isAuditEvent && l.message.startsWith('kubeai.'),
      );
    // the auditor's log lines follow the stored events
    for (let i = 0; i < 50; i++) {
      if (
        audits().filter(l => l.fields.status !== 'initiated').length >=
        events.length
      ) {
        break;
      }
      await new Promise(resolve => setTimeout(resolve, 100));
    }
    const kebab = (id: string) =>
      id.replace(/[A-Z]/g, c => `-${c.toLowerCase()}`);
    const told = (status: string) =>
      audits()
        .filter(l => l.fields.status === status)
        .map(l => ({
          message: l.message,
          actor: l.fields.actor?.actorId,
          severity: l.fields.severityLevel,
          ...(status === 'initiated'
            ? { operationId: l.fields.meta?.operationId }
            : { meta: l.fields.meta }),
        }));
    const byMessage = (a: { message: string }, b: { message: string }) =>
      a.message.localeCompare(b.message);
    expect(told('initiated').sort(byMessage)).toEqual(
      events
        .map(e => ({
          message: `kubeai.${kebab(e.operationId)}`,
          actor: ACTOR,
          severity: 'medium',
          operationId: e.operationId,
        }))
        .sort(byMessage),
    );
    const finished = [...told('succeeded'), ...told('failed')];
    const byEvent = (a: any, b: any) =>
      `${a.meta.summary} ${a.meta.status}`.localeCompare(
        `${b.meta.summary} ${b.meta.status}`,
      );
    expect(finished.sort(byEvent)).toEqual(
      events
        .map(({ id: _id, occurredAt: _at, ...stored }) => ({
          message: `kubeai.${kebab(stored.operationId)}`,
          actor: ACTOR,
          severity: 'medium',
          meta: { params: pathParams(stored.operationId), ...stored },
        }))
        .sort(byEvent),
    );
    // denied and failed requests are failures for the auditor, with the error
    const failures = audits().filter(l => l.fields.status === 'failed');
    expect(failures.map(l => l.fields.error).sort()).toEqual(
      [seen.badCanary, seen.denied].sort(),
    );
  });

  /** The path parameters the auditor's event started with (its meta keeps them). */
  function pathParams(operationId: string): Record<string, string> {
    switch (operationId) {
      case 'createModelVersion':
        return { namespace: 'default', name: 'shoe-brand' };
      case 'promoteInferenceService':
      case 'deleteInferenceService':
        return { cluster: 'local', namespace: NS, name: SERVICE };
      case 'deleteJob':
        return { cluster: 'local', namespace: NS, name: TASK };
      default:
        return {};
    }
  }
});
