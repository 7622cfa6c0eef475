import { Fragment, useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { useApi } from '@backstage/core-plugin-api';
import { InfoCard, Link } from '@backstage/core-components';
import {
  EntityRefLink,
  useEntityRefLink,
} from '@backstage/plugin-catalog-react';
import type { ModelVersion, Run, RunInput } from '@kubeai/plugin-kubeai-common';
import Box from '@material-ui/core/Box';
import FormControl from '@material-ui/core/FormControl';
import InputLabel from '@material-ui/core/InputLabel';
import MenuItem from '@material-ui/core/MenuItem';
import Select from '@material-ui/core/Select';
import Typography from '@material-ui/core/Typography';
import { kubeaiApiRef } from '../../api/refs';
import { formatDate, isNotFound, shortRef } from '../common/format';
import { useKubeaiPaths } from '../common/links';
import { AsyncContent } from '../common/States';
import { ENTITY_TAB_PATHS } from '../lineage/useLineageLinks';

/** `createdBy` of the runs the cluster informers record (the backend's INFORMER_ACTOR). */
const INFORMER_ACTOR = 'kubeai-informer';

/** `v` before a numeric dataset version (`3`, `2026-11-01`); others (`v3`, `ds=20261201`) as they are. */
export function datasetVersionLabel(version: string): string {
  return /^\d/.test(version) ? `v${version}` : version;
}

/** The first 8 characters of a run id, as the versions table shows it. */
const shortId = (id: string) => id.slice(0, 8);

/**
 * Where a version of a model came from: the run that produced it (`runId`, `GET /runs/{id}`), that
 * run's object and phase, and the dataset versions it read — each linked. A version without a run
 * says how to link one; a run the registry no longer knows is said to be missing.
 */
export function ModelVersionProvenance(props: {
  versions: ModelVersion[];
  initialVersion: number;
}) {
  const { versions } = props;
  const [selected, setSelected] = useState(props.initialVersion);
  const version = versions.find(v => v.version === selected) ?? versions[0];
  return (
    <InfoCard title="Provenance">
      <Box component="section" aria-label={`Provenance of v${version.version}`}>
        <Box mb={2}>
          <FormControl size="small" style={{ minWidth: 200 }}>
            <InputLabel id="kubeai-provenance-version">
              Provenance of
            </InputLabel>
            <Select
              labelId="kubeai-provenance-version"
              value={version.version}
              onChange={e => setSelected(Number(e.target.value))}
            >
              {versions.map(v => (
                <MenuItem key={v.version} value={v.version}>
                  v{v.version}
                  {v.aliases.length ? ` (${v.aliases.join(', ')})` : ''}
                </MenuItem>
              ))}
            </Select>
          </FormControl>
        </Box>
        {version.runId ? (
          <RunProvenance version={version} runId={version.runId} />
        ) : (
          <Unlinked version={version} />
        )}
      </Box>
    </InfoCard>
  );
}

function Unlinked(props: { version: ModelVersion }) {
  const { version } = props;
  return (
    <>
      <Typography variant="body1" paragraph>
        v{version.version} is not linked to a training run.
      </Typography>
      <Typography variant="body2" color="textSecondary">
        Register versions from the training code with{' '}
        <code>kubeai register --artifact … --format …</code>{' '}
        (plugins/kubeai-backend/cli/kubeai.py): in a run the portal started it
        sends the pod's <code>KUBEAI_RUN_ID</code>, so the version, the run and
        the dataset versions it read are linked. By hand, pass{' '}
        <code>runId</code> in{' '}
        <code>POST /models/{'{namespace}/{name}'}/versions</code>.
      </Typography>
    </>
  );
}

function RunProvenance(props: { version: ModelVersion; runId: string }) {
  const { version, runId } = props;
  const api = useApi(kubeaiApiRef);
  const paths = useKubeaiPaths();
  const state = useAsync(async () => {
    try {
      return await api.getRun(runId);
    } catch (error) {
      // a deleted (or never recorded) run: the version keeps its id, the page says so
      if (isNotFound(error)) return null;
      throw error;
    }
  }, [api, runId]);
  return (
    <AsyncContent
      state={state}
      loadingLabel={`Loading run ${shortId(runId)}`}
      errorTitle={`Could not load run ${shortId(runId)}`}
    >
      {run =>
        run === null ? (
          <Typography variant="body1">
            v{version.version} names run <code>{runId}</code>, which is not in
            the registry (deleted, or never recorded).
          </Typography>
        ) : (
          <>
            <Typography variant="body1" paragraph>
              v{version.version} trained by run{' '}
              <Link to={paths.run(run.id)} aria-label={`Run ${run.id}`}>
                {shortId(run.id)}
              </Link>{' '}
              ({describeObject(run)}, {run.phase}){' '}
              <Inputs inputs={run.inputs} />
            </Typography>
            <RunDetails version={version} run={run} />
          </>
        )
      }
    </AsyncContent>
  );
}

/** `training Job cv-training/x in local` (the object kind when the informers saw it). */
function describeObject(run: Run): string {
  const kind = run.observed?.kind
    ? `${run.kind} ${run.observed.kind}`
    : run.kind;
  return `${kind} ${run.namespace}/${run.name} in ${run.cluster}`;
}

function Inputs(props: { inputs: RunInput[] }) {
  const entityLink = useEntityRefLink();
  if (props.inputs.length === 0) {
    return <>with no dataset input recorded</>;
  }
  return (
    <>
      on{' '}
      {props.inputs.map((input, i) => (
        <Fragment key={`${input.datasetRef}@${input.version ?? ''}`}>
          {i > 0 && ', '}
          dataset{' '}
          <Link to={entityLink(input.datasetRef)}>
            {shortRef(input.datasetRef)}
          </Link>{' '}
          {input.version ? (
            <Link
              to={`${entityLink(input.datasetRef)}/${
                ENTITY_TAB_PATHS.datasetVersions
              }`}
            >
              {datasetVersionLabel(input.version)}
            </Link>
          ) : (
            '(no version recorded)'
          )}
        </Fragment>
      ))}
    </>
  );
}

/** Who recorded the run and the version; where the run sits (periodic task, deleted object). */
function RunDetails(props: { version: ModelVersion; run: Run }) {
  const { version, run } = props;
  const paths = useKubeaiPaths();
  const registeredByRun = version.createdBy === `run:${run.id}`;
  return (
    <Typography variant="body2" color="textSecondary" component="div">
      <ul
        style={{ margin: 0, paddingLeft: 16 }}
        aria-label="Provenance details"
      >
        <li>
          Run{' '}
          {run.createdBy === INFORMER_ACTOR ? (
            'observed in the cluster (not created through the portal)'
          ) : (
            <>
              created by <Actor actor={run.createdBy} />
            </>
          )}
          {/* runs recorded after the fact (imports, the demo) are created after they finished */}
          {run.finishedAt
            ? `; finished ${formatDate(run.finishedAt)}.`
            : ` on ${formatDate(run.createdAt)}.`}
        </li>
        {run.parentRunId && (
          <li>
            An execution of{' '}
            <Link to={paths.run(run.parentRunId)}>
              {run.schedule?.name ?? shortId(run.parentRunId)}
            </Link>
            .
          </li>
        )}
        {run.observed?.deleted && (
          <li>
            Its {run.observed.kind} was deleted from the cluster
            {run.observed.deletedAt
              ? ` on ${formatDate(run.observed.deletedAt)}`
              : ''}
            ; the run stays in the registry.
          </li>
        )}
        <li>
          v{version.version}{' '}
          {registeredByRun ? (
            'registered by the run itself (its run credential)'
          ) : (
            <>
              registered by <Actor actor={version.createdBy} /> with the run id
            </>
          )}{' '}
          on {formatDate(version.createdAt)}.
        </li>
      </ul>
    </Typography>
  );
}

/** A user entity ref as a link; a run (`run:<id>`) to its page; any other subject as text. */
function Actor(props: { actor: string }) {
  const paths = useKubeaiPaths();
  const { actor } = props;
  if (actor.startsWith('user:')) return <EntityRefLink entityRef={actor} />;
  if (actor.startsWith('run:')) {
    const id = actor.slice('run:'.length);
    return <Link to={paths.run(id)}>run {shortId(id)}</Link>;
  }
  return <>{actor}</>;
}
