import { isResourcePermission } from '@backstage/plugin-permission-common';
import {
  KUBEAI_CATALOG_ENTITY_RESOURCE_TYPE,
  kubeaiPermissions,
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
