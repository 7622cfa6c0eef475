import { Fragment, ReactNode } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { useApi } from '@backstage/core-plugin-api';
import { Link } from '@backstage/core-components';
import { EntityRefLink } from '@backstage/plugin-catalog-react';
import type {
  Impact,
  ImpactRun,
  ImpactService,
  ImpactServiceSource,
} from '@kubeai/plugin-kubeai-common';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';
import { kubeaiApiRef } from '../../api/refs';
import { useKubeaiPaths } from '../common/links';
import { AsyncContent } from '../common/States';

/** Which versions of a model, as a reader says it. */
const SOURCE_TITLES: Record<ImpactServiceSource, string> = {
  recorded: 'deployed',
  observed: 'observed in the cluster',
  discovered: 'not deployed through the portal',
  catalog: 'the catalog says it serves the model',
};

const RELATION_TITLES: Record<string, string> = {
  produced: 'a run that read it produced a version',
  trainedOn: 'trained on it (catalog)',
  dependsOn: 'depends on',
};

/** The entity name of a ref (`model:default/x` → `x`). */
const nameOf = (ref: string) => ref.slice(ref.indexOf('/') + 1);

function Section(props: {
  title: string;
  total: number;
  items: ReactNode[];
  size?: 4 | 6 | 12;
}) {
  const label = `${props.title} (${props.total})`;
  return (
    <Grid item xs={12} sm={props.size ?? 6}>
      <Typography variant="subtitle2" component="h3">
        {label}
      </Typography>
      {props.items.length === 0 ? (
        <Typography variant="body2" color="textSecondary">
          None
        </Typography>
      ) : (
        <ul style={{ paddingLeft: 16, margin: 0 }} aria-label={label}>
          {props.items.map((item, i) => (
            <li key={i}>{item}</li>
          ))}
          {props.total > props.items.length && (
            <li>
              and {props.total - props.items.length} more (see the lineage)
            </li>
          )}
        </ul>
      )}
    </Grid>
  );
}

function ServiceLine(props: { service: ImpactService }) {
  const s = props.service;
  const where =
    s.namespace && s.name
      ? `${s.namespace}/${s.name}${s.cluster ? ` in ${s.cluster}` : ''}`
      : undefined;
  const versions = s.versions
    .map(v => `v${v.version} ${v.percent}% (${SOURCE_TITLES[v.source]})`)
    .join(', ');
  const detail =
    versions ||
    s.sources.map(source => SOURCE_TITLES[source]).join(', ') ||
    undefined;
  return (
    <>
      <EntityRefLink entityRef={s.serviceRef} />
      <Typography variant="caption" color="textSecondary" component="div">
        {[`${nameOf(s.modelRef)}${where ? ` · ${where}` : ''}`, detail, s.phase]
          .filter(Boolean)
          .join(' · ')}
      </Typography>
    </>
  );
}

function RunLine(props: { run: ImpactRun }) {
  const { run } = props;
  const paths = useKubeaiPaths();
  const detail = [
    run.kind,
    run.periodic
      ? `periodic · ${run.childRuns} execution${run.childRuns === 1 ? '' : 's'}`
      : undefined,
    run.phase,
    run.modelRef ? `trains ${nameOf(run.modelRef)}` : undefined,
  ]
    .filter(Boolean)
    .join(' · ');
  return (
    <>
      <Link to={paths.run(run.id)}>{run.name}</Link>
      <Typography variant="caption" color="textSecondary" component="div">
        {detail}
      </Typography>
    </>
  );
}

/** Whether an impact lists nothing at all. */
export function isEmptyImpact(impact: Impact): boolean {
  return Object.values(impact.totals).every(total => total === 0);
}

/**
 * The lists of an impact answer (`GET /impact`): services first (what stops serving), then
 * pipelines and periodic tasks, runs, model versions and downstream models.
 */
export function ImpactLists(props: { impact: Impact; noun: string }) {
  const { impact, noun } = props;
  const { totals } = impact;
  if (isEmptyImpact(impact)) {
    return (
      <Typography variant="body2">
        Nothing depends on this {noun}: no service serves it, and no run,
        pipeline or model uses it.
      </Typography>
    );
  }
  return (
    <Grid container spacing={2}>
      <Section
        title="Inference services"
        total={totals.services}
        size={12}
        items={impact.services.map(s => (
          <ServiceLine key={`${s.serviceRef}|${s.modelRef}`} service={s} />
        ))}
      />
      <Section
        title="Pipelines and periodic tasks"
        total={totals.pipelines}
        items={impact.pipelines.map(run => (
          <RunLine key={run.id} run={run} />
        ))}
      />
      <Section
        title="Runs"
        total={totals.runs}
        items={impact.runs.map(run => (
          <RunLine key={run.id} run={run} />
        ))}
      />
      <Section
        title="Model versions"
        total={totals.modelVersions}
        items={impact.modelVersions.map(v => (
          <Fragment key={`${v.modelRef}@${v.version}`}>
            <EntityRefLink entityRef={v.modelRef} /> v{v.version}
            {v.state === 'archived' ? ' (archived)' : ''}
          </Fragment>
        ))}
      />
      <Section
        title="Models"
        total={totals.models}
        items={impact.models.map(m => (
          <Fragment key={m.entityRef}>
            <EntityRefLink entityRef={m.entityRef} />
            <Typography variant="caption" color="textSecondary" component="div">
              {RELATION_TITLES[m.relation] ?? m.relation}
              {m.relation === 'dependsOn' ? ` ${nameOf(m.via)}` : ''}
            </Typography>
          </Fragment>
        ))}
      />
    </Grid>
  );
}

/**
 * What retiring a dataset (version), model or model version would break, from the backend's
 * answer (registry, observed state and catalog together). `reload` changes refetch it.
 */
export function ImpactView(props: {
  entityRef: string;
  version?: string;
  /** What the start is called in the empty state (`dataset`, `version`, …). */
  noun: string;
  reload?: number;
}) {
  const { entityRef, version, reload } = props;
  const api = useApi(kubeaiApiRef);
  const state = useAsync(
    () =>
      api.getImpact(
        version === undefined ? { entityRef } : { entityRef, version },
      ),
    [api, entityRef, version, reload],
  );
  return (
    <AsyncContent
      state={state}
      loadingLabel="Loading the impact"
      errorTitle="Could not load the impact"
    >
      {impact => <ImpactLists impact={impact} noun={props.noun} />}
    </AsyncContent>
  );
}
