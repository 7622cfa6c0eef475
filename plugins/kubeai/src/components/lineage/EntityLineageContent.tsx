import { stringifyEntityRef } from '@backstage/catalog-model';
import { useEntity } from '@backstage/plugin-catalog-react';
import { useSearchParams } from 'react-router-dom';
import { LineageExplorer } from './LineageExplorer';

/** The Lineage tab of a Model, Dataset or InferenceService (`?version=` starts at one version). */
export function EntityLineageContent() {
  const { entity } = useEntity();
  const [params] = useSearchParams();
  const version = params.get('version') ?? undefined;
  return (
    <LineageExplorer
      start={{ entityRef: stringifyEntityRef(entity), version }}
      height={600}
    />
  );
}
