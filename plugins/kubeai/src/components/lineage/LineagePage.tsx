import { FormEvent, useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router-dom';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import { useKubeaiPaths } from '../common/links';
import { LineageExplorer } from './LineageExplorer';

/**
 * `/kubeai/lineage?entityRef=model:default/foo&version=3` or `?runId=…`: the lineage around any
 * model, model version, dataset, dataset version, inference service or run.
 */
export function LineagePage() {
  const [params] = useSearchParams();
  const entityRef = params.get('entityRef') ?? undefined;
  const version = params.get('version') ?? undefined;
  const runId = params.get('runId') ?? undefined;
  const depth = Number(params.get('depth')) || undefined;
  if (!entityRef && !runId) {
    return <LineageStartForm />;
  }
  return (
    <Box>
      <Typography variant="h6" component="h2" gutterBottom>
        Lineage of{' '}
        {runId
          ? `run ${runId}`
          : `${entityRef}${version ? ` version ${version}` : ''}`}
      </Typography>
      <LineageExplorer
        key={`${entityRef}|${version}|${runId}`}
        start={{ entityRef, version, runId }}
        initialDepth={depth}
        height={640}
      />
    </Box>
  );
}

function LineageStartForm() {
  const navigate = useNavigate();
  const paths = useKubeaiPaths();
  const [entityRef, setEntityRef] = useState('');
  const [version, setVersion] = useState('');
  const [runId, setRunId] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    navigate(
      runId.trim()
        ? paths.lineage({ runId: runId.trim() })
        : paths.lineage({
            entityRef: entityRef.trim(),
            version: version.trim(),
          }),
    );
  };
  return (
    <Box
      component="form"
      onSubmit={submit}
      aria-label="Start the lineage"
      maxWidth={640}
    >
      <Typography variant="body1" paragraph>
        Show the lineage (datasets → runs → model versions → inference services)
        around an entity or a run. Entity pages of models, datasets and
        inference services have a Lineage tab too.
      </Typography>
      <TextField
        id="kubeai-lineage-entity-ref"
        label="Entity reference"
        placeholder="model:default/search-ranking-dnn"
        value={entityRef}
        onChange={e => setEntityRef(e.target.value)}
        fullWidth
        margin="dense"
      />
      <TextField
        id="kubeai-lineage-version"
        label="Version (optional)"
        value={version}
        onChange={e => setVersion(e.target.value)}
        fullWidth
        margin="dense"
      />
      <Typography variant="body2" color="textSecondary">
        or
      </Typography>
      <TextField
        id="kubeai-lineage-run-id"
        label="Run id"
        value={runId}
        onChange={e => setRunId(e.target.value)}
        fullWidth
        margin="dense"
      />
      <Box mt={2}>
        <Button
          type="submit"
          variant="contained"
          color="primary"
          disabled={!entityRef.trim() && !runId.trim()}
        >
          Show lineage
        </Button>
      </Box>
    </Box>
  );
}
