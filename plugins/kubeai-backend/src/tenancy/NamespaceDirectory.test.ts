/*
 * Namespace owners read from the local control plane (`yarn cluster:start`): the kubeai.io/owner
 * label or annotation, app-config winning over both, a namespace created after the watch started
 * (read directly, then kept by the watch), and a changed label seen through the watch.
 */
import { randomBytes } from 'node:crypto';
import { clusterNamespaceRef } from '@kubeai/plugin-kubeai-common';
import { deleteNamespace, testGateway } from '../service/__testUtils__/clusterRoutes';
import { NamespaceDirectory } from './NamespaceDirectory';
import { DEFAULT_OWNER_KEY } from './tenancyConfig';

jest.setTimeout(120_000);

const suffix = randomBytes(3).toString('hex');
const LABELLED = `kubeai-tenancy-${suffix}-a`;
const ANNOTATED = `kubeai-tenancy-${suffix}-b`;
const CONFIGURED = `kubeai-tenancy-${suffix}-c`;
const LATE = `kubeai-tenancy-${suffix}-d`;
const gateway = testGateway();
const quiet = { info: () => undefined, warn: () => undefined };

const namespace = (name: string, metadata: Record<string, any> = {}) =>
  gateway.apply('local', [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name, ...metadata } },
  ]);

async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise(r => setTimeout(r, 100));
  }
}

describe('NamespaceDirectory', () => {
  const directory = new NamespaceDirectory({
    gateway,
    logger: quiet,
    tenancy: {
      ownerKey: DEFAULT_OWNER_KEY,
      platformAdmins: [],
      namespaces: [
        { cluster: 'local', namespace: CONFIGURED, owner: 'group:default/risk-ml' },
      ],
    },
  });

  beforeAll(async () => {
    await namespace(LABELLED, { labels: { [DEFAULT_OWNER_KEY]: 'group-default-cv-team' } });
    await namespace(ANNOTATED, {
      annotations: { [DEFAULT_OWNER_KEY]: 'group:default/search-reco' },
    });
    await namespace(CONFIGURED, { labels: { [DEFAULT_OWNER_KEY]: 'cv-team' } });
    directory.start();
  });

  afterAll(async () => {
    directory.stop();
    for (const name of [LABELLED, ANNOTATED, CONFIGURED, LATE]) {
      await deleteNamespace(gateway, name);
    }
  });

  it('reads the owner from the label, the annotation, or app-config first', async () => {
    const refs = [LABELLED, ANNOTATED, CONFIGURED].map(n => clusterNamespaceRef('local', n));
    expect(await directory.resources([...refs, 'local/kube-system', 'nowhere/x', 'bad'])).toEqual([
      { cluster: 'local', namespace: LABELLED, exists: true, owner: 'group:default/cv-team', ownerSource: 'label' },
      { cluster: 'local', namespace: ANNOTATED, exists: true, owner: 'group:default/search-reco', ownerSource: 'annotation' },
      { cluster: 'local', namespace: CONFIGURED, exists: true, owner: 'group:default/risk-ml', ownerSource: 'config' },
      { cluster: 'local', namespace: 'kube-system', exists: true },
      undefined,
      undefined,
    ]);
  });

  it('lists a cluster’s namespaces with their owners', async () => {
    const listed = await eventually(
      () => directory.list('local'),
      items => items.some(n => n.namespace === LABELLED),
    );
    expect(listed.find(n => n.namespace === LABELLED)).toMatchObject({
      owner: 'group:default/cv-team',
    });
    expect(listed.map(n => n.namespace)).toEqual([...listed.map(n => n.namespace)].sort());
  });

  it('knows a namespace created a moment ago, and one that does not exist', async () => {
    const ref = clusterNamespaceRef('local', LATE);
    expect(await directory.resources([ref])).toEqual([
      { cluster: 'local', namespace: LATE, exists: false },
    ]);
    await namespace(LATE, { labels: { [DEFAULT_OWNER_KEY]: 'group-default-risk-ml' } });
    expect((await directory.resources([ref]))[0]).toMatchObject({
      exists: true,
      owner: 'group:default/risk-ml',
    });
  });

  it('follows a changed owner label through the watch', async () => {
    const ref = clusterNamespaceRef('local', LABELLED);
    await namespace(LABELLED, { labels: { [DEFAULT_OWNER_KEY]: 'group-default-search-reco' } });
    const [seen] = await eventually(
      () => directory.resources([ref]),
      ([n]) => n?.owner === 'group:default/search-reco',
    );
    expect(seen?.owner).toBe('group:default/search-reco');
  });
});
