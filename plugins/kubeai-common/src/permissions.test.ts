import {
  isResourcePermission,
  type Permission,
} from '@backstage/plugin-permission-common';
import {
  clusterNamespaceRef,
  KUBEAI_CATALOG_ENTITY_RESOURCE_TYPE,
  KUBEAI_CLUSTER_NAMESPACE_RESOURCE_TYPE,
  kubeaiNamespacePermissions,
  kubeaiPermissions,
  parseClusterNamespaceRef,
} from './permissions';

describe('kubeaiPermissions', () => {
  it('have unique kubeai.* names', () => {
    const names = kubeaiPermissions.map(p => p.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.every(n => n.startsWith('kubeai.'))).toBe(true);
  });

  it('are catalog-entity resource permissions where an entity is changed', () => {
    const resource = kubeaiPermissions
      .filter(p => isResourcePermission(p, KUBEAI_CATALOG_ENTITY_RESOURCE_TYPE))
      .map(p => p.name);
    expect(resource).toEqual([
      'kubeai.model.version.create',
      'kubeai.model.version.update',
      'kubeai.dataset.version.create',
      'kubeai.deployment.create',
      'kubeai.deployment.update',
    ]);
  });
});

describe('cluster namespace permissions', () => {
  it('are the create and delete of cluster objects and the runs, checked against a namespace', () => {
    const names = kubeaiPermissions
      .filter(p =>
        isResourcePermission(p, KUBEAI_CLUSTER_NAMESPACE_RESOURCE_TYPE),
      )
      .map(p => p.name)
      .sort();
    expect(names).toEqual([
      'kubeai.cluster.object.create',
      'kubeai.cluster.object.delete',
      'kubeai.run.create',
      'kubeai.run.update',
    ]);
    // the resource type registers exactly these (its rules decide them)
    expect(kubeaiNamespacePermissions.map(p => p.name).sort()).toEqual(names);
  });

  it("decide every KubeAI write on a place, but the platform's pools and quotas (basic)", () => {
    const all: Permission[] = kubeaiPermissions;
    // quotas belong to no team's namespace or entity: the policy decides them by caller alone
    expect(all.filter(p => !isResourcePermission(p)).map(p => p.name)).toEqual([
      'kubeai.pool.update',
    ]);
  });

  it('name a namespace as <cluster>/<namespace>, split at the last slash', () => {
    expect(clusterNamespaceRef('local', 'cv-team')).toBe('local/cv-team');
    expect(parseClusterNamespaceRef('local/cv-team')).toEqual({
      cluster: 'local',
      namespace: 'cv-team',
    });
    expect(parseClusterNamespaceRef('eu/prod/cv-team')).toEqual({
      cluster: 'eu/prod',
      namespace: 'cv-team',
    });
    expect(parseClusterNamespaceRef('no-namespace')).toBeUndefined();
    expect(parseClusterNamespaceRef('local/')).toBeUndefined();
  });
});
