/*
 * The tenancy matrix of ../tenancy.test.ts: the teams, the columns (policy × caller × whose
 * namespace and entities), the expected outcome of each cell as the policies' rules say it, the
 * catalog the portals load, running one cell (setup → snapshot → the write → snapshot) and
 * printing the matrix.
 */
import type { PolicyName } from '../permissionPolicy';
import {
  call,
  type Knex,
  must,
  type Portal,
  snapshotCatalog,
  snapshotRegistry,
} from './portalBackend';
import { type Kube, type ResourceType, snapshotObjects } from './localCluster';
import {
  type Cell,
  isActionRow,
  type Row,
  rowLabel,
  type SpecOperation,
  type Team,
  templateName,
  urlOf,
} from './tenancyRows';

// ------------------------------------------------------------------ who

export const ADMIN_GROUP = 'group:default/ml-platform';
export const ADMIN = 'user:default/carol';

export function teams(suffix: string): { cv: Team; search: Team } {
  return {
    cv: {
      id: 'cv',
      group: 'group:default/cv-team',
      user: 'user:default/alice',
      namespace: `kubeai-tenancycv-${suffix}`,
      model: 'tenancy-cv-model',
      dataset: 'tenancy-cv-data',
    },
    search: {
      id: 'search',
      group: 'group:default/search-reco',
      user: 'user:default/bob',
      namespace: `kubeai-tenancysearch-${suffix}`,
      model: 'tenancy-search-model',
      dataset: 'tenancy-search-data',
    },
  };
}

/** The ownership refs of each user (the user and their groups). */
export function membersOf(cv: Team, search: Team): Record<string, string[]> {
  return {
    [cv.user]: [cv.user, cv.group],
    [search.user]: [search.user, search.group],
    [ADMIN]: [ADMIN, ADMIN_GROUP],
  };
}

/** The label value a namespace names its owner with (`group-<namespace>-<name>`). */
export const ownerLabel = (team: Team) =>
  team.group.replace(/^group:([^/]+)\//, 'group-$1-');

// ------------------------------------------------------------------ columns

export interface Column {
  key: string;
  policy: PolicyName;
  actor: string;
  /** Whose namespace and whose entities the writes of the column go to. */
  ns: Team;
  entity: Team;
}

/**
 * alice (cv-team) in her team's places and in bob's (search-reco) under the three policies; under
 * `ownership` also each place of the other team alone, and a platform admin in bob's places.
 */
export function columns(cv: Team, search: Team): Column[] {
  const alice = cv.user;
  return [
    { key: 'a', policy: 'ownership', actor: alice, ns: cv, entity: cv },
    { key: 'b', policy: 'ownership', actor: alice, ns: search, entity: search },
    { key: 'c', policy: 'ownership', actor: alice, ns: cv, entity: search },
    { key: 'd', policy: 'ownership', actor: alice, ns: search, entity: cv },
    { key: 'e', policy: 'ownership', actor: ADMIN, ns: search, entity: search },
    { key: 'f', policy: 'allow-all', actor: alice, ns: cv, entity: cv },
    { key: 'g', policy: 'allow-all', actor: alice, ns: search, entity: search },
    { key: 'h', policy: 'read-only', actor: alice, ns: cv, entity: cv },
    { key: 'i', policy: 'read-only', actor: alice, ns: search, entity: search },
  ];
}

export const cellOf = (row: Row, column: Column): Cell => ({
  key: `${row.key}-${column.key}`,
  actor: column.actor,
  ns: column.ns,
  entity: column.entity,
  service: `svc-${row.key}-${column.key}`,
});

export type Expected = 'allowed' | 'denied';

/**
 * What the policy says about a row's write in a column — the rules of
 * packages/backend/src/permissionPolicy.ts, restated (not run):
 *
 * - allow-all allows everything;
 * - read-only denies every create, update and delete;
 * - ownership: platform admins may do everything; everybody else writes only where their group
 *   owns every place the write is decided on (the namespace — a run record's too — and the
 *   entity, e.g. the service entity of a deleted InferenceService); a write with no place is
 *   every user's.
 */
export function expectedOutcome(
  row: Row,
  column: Column,
  members: Record<string, string[]>,
): Expected {
  switch (column.policy) {
    case 'allow-all':
      return 'allowed';
    case 'read-only':
      return 'denied';
    case 'ownership': {
      const claims = members[column.actor] ?? [];
      if (claims.includes(ADMIN_GROUP)) return 'allowed';
      const owners = {
        namespace: column.ns.group,
        entity: column.entity.group,
        platform: ADMIN_GROUP,
      };
      return row.writes.every(place => claims.includes(owners[place]))
        ? 'allowed'
        : 'denied';
    }
    default:
      throw new Error(`no expectations for policy ${column.policy}`);
  }
}

// ------------------------------------------------------------------ the catalog

/**
 * The catalog of the portals: the groups and users, each team's model and dataset, an
 * InferenceService entity per cell of the rows that need one, and a one-step template per
 * action row. JSON documents (YAML) separated by `---`.
 */
export function catalogFile(
  cv: Team,
  search: Team,
  rows: Row[],
  cols: Column[],
): { text: string; refs: string[] } {
  const docs: any[] = [];
  const name = (ref: string) => ref.slice(ref.indexOf('/') + 1);
  for (const group of [cv.group, search.group, ADMIN_GROUP]) {
    docs.push({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Group',
      metadata: { name: name(group) },
      spec: { type: 'team', children: [] },
    });
  }
  for (const [user, group] of [
    [cv.user, cv.group],
    [search.user, search.group],
    [ADMIN, ADMIN_GROUP],
  ]) {
    docs.push({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'User',
      metadata: { name: name(user) },
      spec: { memberOf: [name(group)] },
    });
  }
  const kubeai = (kind: string, entityName: string, spec: object) => ({
    apiVersion: 'kubeai.io/v1alpha1',
    kind,
    metadata: { name: entityName },
    spec: { lifecycle: 'experimental', ...spec },
  });
  for (const team of [cv, search]) {
    docs.push(
      kubeai('Model', team.model, {
        type: 'classification',
        framework: 'pytorch',
        owner: team.group,
      }),
      kubeai('Dataset', team.dataset, {
        owner: team.group,
        source: {
          type: 'pvc',
          claimName: team.dataset,
          namespace: team.namespace,
        },
      }),
    );
  }
  for (const row of rows.filter(r => r.service)) {
    for (const column of cols) {
      const cell = cellOf(row, column);
      docs.push(
        kubeai('InferenceService', cell.service, {
          owner: cell.entity.group,
          model: `model:default/${cell.entity.model}`,
          deployment: {
            cluster: 'local',
            namespace: cell.ns.namespace,
            name: cell.service,
          },
        }),
      );
    }
  }
  for (const row of rows.filter(isActionRow)) {
    docs.push({
      apiVersion: 'scaffolder.backstage.io/v1beta3',
      kind: 'Template',
      metadata: { name: templateName(row) },
      spec: {
        owner: ADMIN_GROUP,
        type: 'service',
        parameters: [{ type: 'object' }],
        steps: [
          {
            id: 'run',
            name: row.action,
            action: row.action,
            input: Object.fromEntries(
              row.keys.map(key => [key, `\${{ parameters.${key} }}`]),
            ),
          },
        ],
      },
    });
  }
  const refs = docs.map(
    d => `${d.kind.toLowerCase()}:default/${d.metadata.name}`,
  );
  return {
    text: docs.map(d => JSON.stringify(d, null, 1)).join('\n---\n'),
    refs,
  };
}

// ------------------------------------------------------------------ one cell

/** What a write changed: the registry, the catalog, the objects of the test namespaces. */
export interface Snapshot {
  registry: Record<string, string[]>;
  catalog: string[];
  cluster: string[];
}

export interface MatrixContext {
  knex: Knex;
  kube: Kube;
  resourceTypes: ResourceType[];
  namespaces: string[];
  /** The allow-all portal: every setup goes through it, as the owner. */
  setupPortal: Portal;
  operations: Map<string, SpecOperation>;
  members: Record<string, string[]>;
}

export async function snapshot(
  ctx: MatrixContext,
  portal: Portal,
): Promise<Snapshot> {
  const [registry, catalog, cluster] = await Promise.all([
    snapshotRegistry(ctx.knex),
    snapshotCatalog(portal, ADMIN),
    snapshotObjects(ctx.kube, ctx.resourceTypes, ctx.namespaces),
  ]);
  return { registry, catalog, cluster };
}

/** What differs between two snapshots (empty: nothing was written). */
export function differences(before: Snapshot, after: Snapshot): string[] {
  const diff = (what: string, a: string[], b: string[]) => {
    const removed = a.filter(x => !b.includes(x));
    const added = b.filter(x => !a.includes(x));
    return [
      ...removed.map(x => `${what} − ${x}`),
      ...added.map(x => `${what} + ${x}`),
    ];
  };
  const tables = [
    ...new Set([
      ...Object.keys(before.registry),
      ...Object.keys(after.registry),
    ]),
  ];
  return [
    ...tables.flatMap(t =>
      diff(t, before.registry[t] ?? [], after.registry[t] ?? []),
    ),
    ...diff('catalog', before.catalog, after.catalog),
    ...diff('cluster', before.cluster, after.cluster),
  ];
}

export interface CellResult {
  row: Row;
  column: Column;
  expected: Expected;
  status: number;
  message?: string;
  /** Why the cell is not as expected (undefined: it is). */
  problem?: string;
}

/** The answer of a scaffolder task of the row's template: its step's API status. */
async function runTask(
  portal: Portal,
  user: string,
  template: string,
  values: Record<string, unknown>,
): Promise<{ status: number; message?: string }> {
  const created = await call(portal, user, 'post', '/api/scaffolder/v2/tasks', {
    templateRef: `template:default/${template}`,
    values,
  });
  if (created.status !== 201) {
    return { status: created.status, message: created.body?.error?.message };
  }
  const id = created.body.id;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const task = await must(
      portal,
      user,
      'get',
      `/api/scaffolder/v2/tasks/${id}`,
    );
    if (task.status === 'completed') return { status: 200 };
    if (task.status === 'failed' || task.status === 'cancelled') break;
    if (Date.now() > deadline) {
      return {
        status: 0,
        message: `task ${id} still ${task.status} after 60 s`,
      };
    }
    await new Promise(resolve => setTimeout(resolve, 100));
  }
  const events = await must(
    portal,
    user,
    'get',
    `/api/scaffolder/v2/tasks/${id}/events`,
  );
  const messages: string[] = events
    .flatMap((e: any) => [e.body?.message, e.body?.error?.message])
    .filter((m: unknown): m is string => typeof m === 'string');
  for (const message of messages) {
    const answer = /KubeAI API (\d{3}): (.*)/s.exec(message);
    if (answer) return { status: Number(answer[1]), message: answer[2] };
  }
  return { status: 500, message: messages.slice(-3).join(' | ') };
}

/**
 * Runs one cell: the row's setup (as the owner, through the allow-all portal), a snapshot, the
 * write as the column's caller on `portal`, another snapshot. As expected means: the answer is
 * 2xx / 403 as the policy says; after a 403 nothing changed; an allowed write changed something;
 * a refusal under `ownership` names a place of the other team (it is about tenancy).
 */
export async function runCell(
  ctx: MatrixContext,
  portal: Portal,
  row: Row,
  column: Column,
): Promise<CellResult> {
  const cell = cellOf(row, column);
  const expected = expectedOutcome(row, column, ctx.members);
  const fixture = row.setup
    ? await row.setup(cell, (user, method, path, body) =>
        must(ctx.setupPortal, user, method, `/api/kubeai${path}`, body),
      )
    : {};
  const before = await snapshot(ctx, portal);
  let answer: { status: number; message?: string };
  if (isActionRow(row)) {
    answer = await runTask(
      portal,
      cell.actor,
      templateName(row),
      row.input(cell, fixture),
    );
  } else {
    const op = ctx.operations.get(row.operationId)!;
    const { params, body } = row.request(cell, fixture);
    const res = await call(
      portal,
      cell.actor,
      op.method,
      urlOf(op, params),
      body,
    );
    answer = { status: res.status, message: res.body?.error?.message };
  }
  const changes = differences(before, await snapshot(ctx, portal));
  const result: CellResult = { row, column, expected, ...answer };
  const allowed = answer.status >= 200 && answer.status < 300;
  if (!allowed && answer.status !== 403) {
    result.problem = `answered ${answer.status}: ${answer.message}`;
  } else if ((expected === 'allowed') !== allowed) {
    result.problem = `expected ${expected}, answered ${answer.status}${
      answer.message ? `: ${answer.message}` : ''
    }`;
  } else if (!allowed && changes.length) {
    result.problem = `written after the 403: ${changes.slice(0, 5).join('; ')}`;
  } else if (allowed && changes.length === 0) {
    result.problem = 'allowed, but nothing was written';
  } else if (!allowed && column.policy === 'ownership') {
    const foreign = foreignPlaces(row, cell, ctx.members[cell.actor] ?? []);
    if (!foreign.some(ref => answer.message?.includes(ref))) {
      result.problem = `the 403 names none of the other team's places (${foreign.join(
        ', ',
      )}): ${answer.message}`;
    }
  }
  return result;
}

/** The refs of the places of a cell the caller's groups do not own (as the denials name them). */
function foreignPlaces(row: Row, cell: Cell, claims: string[]): string[] {
  const refs: string[] = [];
  if (row.writes.includes('namespace') && !claims.includes(cell.ns.group)) {
    refs.push(`local/${cell.ns.namespace}`);
  }
  if (row.writes.includes('platform') && !claims.includes(ADMIN_GROUP)) {
    refs.push('kubeai.pool.update');
  }
  if (row.writes.includes('entity') && !claims.includes(cell.entity.group)) {
    const names = {
      model: cell.entity.model,
      dataset: cell.entity.dataset,
      inferenceservice: cell.service,
    };
    refs.push(`${row.entity}:default/${names[row.entity!]}`);
  }
  return refs;
}

// ------------------------------------------------------------------ the matrix

const pad = (text: string, width: number) =>
  text.length >= width ? text : text + ' '.repeat(width - text.length);

/** The matrix as text: a legend, rows × columns, per-column and overall totals, the notes. */
export function formatMatrix(
  results: CellResult[],
  rows: Row[],
  cols: Column[],
  operations: Map<string, SpecOperation>,
): string {
  const label = (row: Row) =>
    rowLabel(
      row,
      isActionRow(row) ? undefined : operations.get(row.operationId),
    );
  const who = (user: string) => user.replace('user:default/', '');
  const group = (team: Team) => team.group.replace('group:default/', '');
  const cellText = (r: CellResult) => {
    const shown = r.status >= 200 && r.status < 300 ? 'ok' : String(r.status);
    return r.problem ? `${shown}✗` : shown;
  };
  const width = Math.max(...rows.map(r => label(r).length)) + 2;
  const lines: string[] = [];
  lines.push(
    `Tenancy matrix: ${rows.length} rows (${
      rows.filter(r => !isActionRow(r)).length
    } mutating operations of openapi.yaml, ${
      rows.filter(isActionRow).length
    } kubeai:* scaffolder actions) × ${cols.length} columns`,
  );
  lines.push('columns: policy — caller → namespace of / entities of');
  for (const c of cols) {
    lines.push(
      `  ${c.key.toUpperCase()}  ${pad(c.policy, 10)} ${pad(
        who(c.actor),
        6,
      )} → ${group(c.ns)} / ${group(c.entity)}`,
    );
  }
  lines.push(
    'cells: ok = 2xx (or the task completed), 403 = refused with nothing written; ✗ = not what the policy says',
  );
  lines.push('');
  lines.push(
    `${pad('row', width)}${pad('writes', 18)}${cols
      .map(c => pad(c.key.toUpperCase(), 6))
      .join('')}`,
  );
  for (const row of rows) {
    const cells = cols.map(c =>
      results.find(r => r.row === row && r.column === c),
    );
    lines.push(
      `${pad(label(row), width)}${pad(row.writes.join('+') || '—', 18)}${cells
        .map(r => pad(r ? cellText(r) : '·', 6))
        .join('')}`,
    );
  }
  const ok = (rs: CellResult[]) => rs.filter(r => !r.problem).length;
  lines.push(
    `${pad('as expected', width)}${pad('', 18)}${cols
      .map(c => {
        const rs = results.filter(r => r.column === c);
        return pad(`${ok(rs)}/${rs.length}`, 6);
      })
      .join('')}`,
  );
  lines.push('');
  lines.push(`${ok(results)}/${results.length} as expected`);
  const notes = rows.filter(r => r.note);
  if (notes.length) {
    lines.push('');
    lines.push('notes:');
    for (const row of notes) lines.push(`  ${label(row)}: ${row.note}`);
  }
  const problems = results.filter(r => r.problem);
  if (problems.length) {
    lines.push('');
    lines.push('not as expected:');
    for (const r of problems) {
      lines.push(
        `  ${label(r.row)} [${r.column.key.toUpperCase()}]: ${r.problem}`,
      );
    }
  }
  return lines.join('\n');
}
