import { ReactNode } from 'react';
import { InfoCard, Link } from '@backstage/core-components';
import {
  EntityRefLinks,
  getEntityRelations,
  useEntity,
} from '@backstage/plugin-catalog-react';
import {
  ANNOTATION_KUBEAI_TRAINING_JOB_KIND,
  ANNOTATION_KUBEAI_TRAINING_SCHEDULE,
  ANNOTATION_KUBEAI_TRAINING_TOPOLOGY,
  DatasetEntityV1alpha1,
  formatDatasetSource,
  InferenceServiceEntityV1alpha1,
  isDatasetEntity,
  isInferenceServiceEntity,
  isModelEntity,
  ModelEntityV1alpha1,
  RELATION_SERVED_BY,
  RELATION_SERVES_MODEL,
  RELATION_TRAINED_ON,
  RELATION_TRAINING_DATA_OF,
} from '@kubeai/plugin-kubeai-common';
import Chip from '@material-ui/core/Chip';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';
import { relationRowsOf } from './relations';

type AnyEntity = ReturnType<typeof useEntity>['entity'];

/** A label and its value, in the style of the about card. */
function Field(props: { label: string; children?: ReactNode; wide?: boolean }) {
  const { label, children, wide } = props;
  return (
    <Grid item xs={12} sm={wide ? 12 : 6}>
      <Typography variant="subtitle2" color="textSecondary">
        {label}
      </Typography>
      <Typography variant="body2" component="div">
        {children ?? '—'}
      </Typography>
    </Grid>
  );
}

function Related(props: { entity: AnyEntity; type: string }) {
  const refs = getEntityRelations(props.entity, props.type);
  return refs.length ? <EntityRefLinks entityRefs={refs} /> : null;
}

function ModelDetails({ entity }: { entity: ModelEntityV1alpha1 }) {
  const annotations = entity.metadata.annotations ?? {};
  const training = [
    annotations[ANNOTATION_KUBEAI_TRAINING_JOB_KIND],
    annotations[ANNOTATION_KUBEAI_TRAINING_TOPOLOGY],
    annotations[ANNOTATION_KUBEAI_TRAINING_SCHEDULE] &&
      `schedule ${annotations[ANNOTATION_KUBEAI_TRAINING_SCHEDULE]}`,
  ].filter(Boolean);
  return (
    <Grid container spacing={2}>
      <Field label="Type">
        <Chip size="small" label={entity.spec.type} />
      </Field>
      <Field label="Framework">
        <Chip size="small" label={entity.spec.framework} />
      </Field>
      <Field label="Trained on" wide>
        <Related entity={entity} type={RELATION_TRAINED_ON} />
      </Field>
      <Field label="Served by" wide>
        <Related entity={entity} type={RELATION_SERVED_BY} />
      </Field>
      <Field label="Training" wide>
        {training.length ? training.join(' · ') : undefined}
      </Field>
    </Grid>
  );
}

function DatasetDetails({ entity }: { entity: DatasetEntityV1alpha1 }) {
  const { source, cache, format, schema } = entity.spec;
  return (
    <Grid container spacing={2}>
      <Field label="Source type">
        <Chip size="small" label={source.type} />
      </Field>
      <Field label="Format">{format}</Field>
      <Field label="Location" wide>
        <code>{formatDatasetSource(source)}</code>
      </Field>
      <Field label="Cache" wide>
        {cache &&
          [cache.engine, cache.capacity, cache.medium]
            .filter(Boolean)
            .join(' · ')}
      </Field>
      <Field label="Fields" wide>
        {schema?.fields?.length
          ? schema.fields.map(f => `${f.name}: ${f.type}`).join(', ')
          : undefined}
      </Field>
      <Field label="Training data of" wide>
        <Related entity={entity} type={RELATION_TRAINING_DATA_OF} />
      </Field>
    </Grid>
  );
}

function InferenceServiceDetails(props: {
  entity: InferenceServiceEntityV1alpha1;
}) {
  const { entity } = props;
  const { modelVersion, runtime, deployment } = entity.spec;
  return (
    <Grid container spacing={2}>
      <Field label="Model">
        <Related entity={entity} type={RELATION_SERVES_MODEL} />
      </Field>
      <Field label="Model version">
        {modelVersion !== undefined ? String(modelVersion) : 'latest'}
      </Field>
      <Field label="Runtime" wide>
        {runtime &&
          [runtime.modelFormat, runtime.protocol, runtime.name]
            .filter(Boolean)
            .join(' · ')}
      </Field>
      <Field label="Deployment" wide>
        {deployment && (
          <code>
            {[deployment.cluster, deployment.namespace, deployment.name]
              .filter(Boolean)
              .join('/')}
          </code>
        )}
      </Field>
    </Grid>
  );
}

/** The KubeAI fields of a Model, Dataset or InferenceService (info card). */
export function KubeaiDetailsCard() {
  const { entity } = useEntity();
  let content: ReactNode = null;
  if (isModelEntity(entity)) {
    content = <ModelDetails entity={entity} />;
  } else if (isDatasetEntity(entity)) {
    content = <DatasetDetails entity={entity} />;
  } else if (isInferenceServiceEntity(entity)) {
    content = <InferenceServiceDetails entity={entity} />;
  }
  return <InfoCard title={entity.kind}>{content}</InfoCard>;
}

/** Every relation of a KubeAI entity (lineage, serving, dependencies) and its links. */
export function KubeaiRelationsCard() {
  const { entity } = useEntity();
  const rows = relationRowsOf(entity.kind)
    .map(row => ({ ...row, refs: getEntityRelations(entity, row.type) }))
    .filter(row => row.refs.length > 0);
  const links = entity.metadata.links ?? [];
  return (
    <InfoCard title="Relations and links">
      <Grid container spacing={2}>
        {rows.map(row => (
          <Field key={row.type} label={row.title} wide>
            <EntityRefLinks entityRefs={row.refs} />
          </Field>
        ))}
        {links.length > 0 && (
          <Field label="links" wide>
            {links.map(link => (
              <div key={link.url}>
                <Link to={link.url}>{link.title ?? link.url}</Link>
              </div>
            ))}
          </Field>
        )}
        {rows.length === 0 && links.length === 0 && (
          <Field label="" wide>
            No related entities or links yet.
          </Field>
        )}
      </Grid>
    </InfoCard>
  );
}
