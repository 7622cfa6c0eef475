/**
 * `GET /impact`: what breaks when a dataset (version), model or model version is retired
 * (../database/impact.ts), with the catalog's relations as the caller sees the catalog.
 */
import type { ApiRouter } from '@backstage/backend-openapi-utils';
import { NotFoundError } from '@backstage/errors';
import type { KubeaiOpenApiSpec } from '@kubeai/plugin-kubeai-node';
import type { CatalogRelation, ImpactStart } from '../database/impact';
import type { RegistryStore } from '../database/RegistryStore';
import { kindOf, normalizeRef } from '../refs';
import type { Access } from './access/Access';
import { modelVersionParam } from './queryParams';

export function registerImpactRoutes(
  api: ApiRouter<KubeaiOpenApiSpec>,
  options: { store: RegistryStore; access: Access },
): void {
  const { store, access } = options;

  api.get('/impact', async (req, res) => {
    const credentials = await access.credentials(req);
    const start = impactStart(req.query.entityRef, req.query.version);
    const impact = await store.modelVersions.impact(start, async refs => {
      const found = await access.catalogEntities(credentials, refs, [
        'kind',
        'metadata.namespace',
        'metadata.name',
        'relations',
      ]);
      const out = new Map<string, CatalogRelation[]>();
      for (const [ref, entity] of found) {
        out.set(ref, (entity.relations ?? []) as CatalogRelation[]);
      }
      return out;
    });
    if (!impact) {
      throw new NotFoundError(
        start.version === undefined
          ? `${start.ref} not found in the catalog`
          : `${start.ref} has no version ${start.version}`,
      );
    }
    res.json(impact);
  });
}

function impactStart(
  entityRef: string,
  version: string | undefined,
): ImpactStart {
  const ref = normalizeRef(entityRef);
  if (kindOf(ref) === 'dataset') return { type: 'dataset', ref, version };
  return { type: 'model', ref, version: modelVersionParam(version) };
}
