import { Entity } from '@backstage/catalog-model';
import { LocationSpec } from '@backstage/plugin-catalog-common';
import {
  CatalogProcessor,
  CatalogProcessorEmit,
  processingResult,
} from '@backstage/plugin-catalog-node';
import {
  getKubeaiEntityRelations,
  isKubeaiKind,
  KUBEAI_RELATION_FIELDS,
  validateKubeaiEntity,
} from '@kubeai/plugin-kubeai-common';

/**
 * Validates the KubeAI kinds (Model, Dataset, InferenceService of `kubeai.io/v1alpha1`) and
 * emits their relations in both directions. Other kinds are left to the other processors.
 *
 * An invalid entity makes `validateEntityKind` throw; the catalog then records a processing
 * error (`… threw an error while validating the entity model:default/x; caused by InputError:
 * Invalid Model entity model:default/x: /spec/owner is required`) and does not store the new
 * version, so nothing is half-ingested.
 *
 * The three methods match the stages of catalog-backend's `ModelProcessor`, which serves
 * kinds declared through `catalogModelExtensionPoint` (alpha). This processor is still needed,
 * because in Backstage 1.55 that path cannot produce these messages, does not reject a reference
 * to a kind that is not allowed, and replaces the built-in kinds' processor for the whole catalog
 * (see the module's README.md). The kinds, schemas and relation fields live in
 * `@kubeai/plugin-kubeai-common` (`entities/`); this class only adapts them to the catalog.
 */
export class KubeaiEntitiesProcessor implements CatalogProcessor {
  getProcessorName(): string {
    return 'KubeaiEntitiesProcessor';
  }

  /** Sorts the reference lists, so that reordering them is not a change. */
  async preProcessEntity(entity: Entity): Promise<Entity> {
    if (isKubeaiKind(entity.kind) && entity.spec) {
      for (const field of KUBEAI_RELATION_FIELDS[entity.kind]) {
        const key = field.path.replace(/^spec\./, '');
        const value = entity.spec[key];
        if (Array.isArray(value) && value.every(v => typeof v === 'string')) {
          (value as string[]).sort();
        }
      }
    }
    return entity;
  }

  /** `false`: not a KubeAI kind; `true`: a valid KubeAI entity; throws: an invalid one. */
  async validateEntityKind(entity: Entity): Promise<boolean> {
    return validateKubeaiEntity(entity) !== false;
  }

  async postProcessEntity(
    entity: Entity,
    _location: LocationSpec,
    emit: CatalogProcessorEmit,
  ): Promise<Entity> {
    for (const relation of getKubeaiEntityRelations(entity)) {
      emit(processingResult.relation(relation));
    }
    return entity;
  }
}
