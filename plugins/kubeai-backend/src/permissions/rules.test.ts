import {
  AuthorizeResult,
  createPermission,
} from '@backstage/plugin-permission-common';
import { createPermissionIntegrationRouter } from '@backstage/plugin-permission-node';
import express from 'express';
import request from 'supertest';
import { KUBEAI_CLUSTER_NAMESPACE_RESOURCE_TYPE } from '@kubeai/plugin-kubeai-common';
import type { ClusterNamespace } from '../tenancy/NamespaceDirectory';
import { kubeaiNamespaceConditions } from './conditions';
import { isInCluster, isNamespaceOwner, kubeaiNamespaceResourceRef, kubeaiNamespaceRules } from './rules';

const cvNamespace: ClusterNamespace = {
  cluster: 'local',
  namespace: 'cv',
  owner: 'group:default/cv-team',
  ownerSource: 'label',
  exists: true,
};
const unowned: ClusterNamespace = { cluster: 'eu', namespace: 'x', exists: true };

describe('the cluster-namespace rules', () => {
  it('isNamespaceOwner: the owner is one of the claims (any case); no owner matches nobody', () => {
    const claims = ['user:default/alice', 'group:default/CV-Team'];
    expect(isNamespaceOwner.apply(cvNamespace, { claims })).toBe(true);
    expect(isNamespaceOwner.apply(cvNamespace, { claims: ['group:default/search-reco'] })).toBe(false);
    expect(isNamespaceOwner.apply(unowned, { claims })).toBe(false);
  });

  it('isInCluster: the namespace is in one of the clusters', () => {
    expect(isInCluster.apply(cvNamespace, { clusters: ['local'] })).toBe(true);
    expect(isInCluster.apply(unowned, { clusters: ['local'] })).toBe(false);
  });

  it('are applied by the permission framework to the namespaces getResources loads', async () => {
    // what the permission backend sends to /.well-known/backstage/permissions/apply-conditions
    const permission = createPermission({
      name: 'kubeai.cluster.object.create',
      attributes: { action: 'create' },
      resourceType: KUBEAI_CLUSTER_NAMESPACE_RESOURCE_TYPE,
    });
    const router = createPermissionIntegrationRouter({
      resources: [
        {
          resourceType: kubeaiNamespaceResourceRef.resourceType,
          permissions: [permission],
          rules: Object.values(kubeaiNamespaceRules),
          getResources: async refs =>
            refs.map(ref => ({ 'local/cv': cvNamespace, 'eu/x': unowned } as Record<string, ClusterNamespace>)[ref]),
        },
      ],
    });
    const app = express().use(router);
    const conditions = kubeaiNamespaceConditions.isNamespaceOwner({
      claims: ['group:default/cv-team'],
    });
    const ask = (resourceRef: string) => ({
      id: resourceRef,
      resourceRef,
      resourceType: KUBEAI_CLUSTER_NAMESPACE_RESOURCE_TYPE,
      conditions,
    });
    const res = await request(app)
      .post('/.well-known/backstage/permissions/apply-conditions')
      .send({ items: [ask('local/cv'), ask('eu/x'), ask('local/unknown')] });
    expect(res.text && res.status !== 200 ? res.text : res.status).toBe(200);
    expect(res.body.items).toEqual([
      { id: 'local/cv', result: AuthorizeResult.ALLOW },
      { id: 'eu/x', result: AuthorizeResult.DENY },
      { id: 'local/unknown', result: AuthorizeResult.DENY },
    ]);
    // the rules as the policy author sees them, with their parameter schemas
    const metadata = await request(app).get('/.well-known/backstage/permissions/metadata');
    expect(metadata.body.rules.map((r: any) => [r.name, Object.keys(r.paramsSchema.properties)])).toEqual([
      ['IS_NAMESPACE_OWNER', ['claims']],
      ['IS_IN_CLUSTER', ['clusters']],
    ]);
  });
});
