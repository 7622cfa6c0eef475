import { useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { useApi, useApiHolder } from '@backstage/core-plugin-api';
import { usePermission } from '@backstage/plugin-permission-react';
import {
  clusterNamespaceRef,
  Deployment,
  DeploymentRevision,
  EntityName,
  kubeaiClusterObjectCreatePermission,
  kubeaiDeploymentUpdatePermission,
} from '@kubeai/plugin-kubeai-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogContentText from '@material-ui/core/DialogContentText';
import DialogTitle from '@material-ui/core/DialogTitle';
import FormControl from '@material-ui/core/FormControl';
import InputLabel from '@material-ui/core/InputLabel';
import MenuItem from '@material-ui/core/MenuItem';
import Select from '@material-ui/core/Select';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import {
  canaryOf,
  canaryTraffic,
  formatTraffic,
  InferenceServiceActionResult,
} from '../../api/InferenceServiceActions';
import { inferenceServiceActionsApiRef, kubeaiApiRef } from '../../api/refs';
import { entityNameOf, errorMessage } from '../common/format';
import { ErrorState } from '../common/States';
import { useActionRunner } from '../common/useActionRunner';

type Pending =
  | { kind: 'update' }
  | { kind: 'promote'; version: number }
  | { kind: 'rollback'; target: DeploymentRevision };

/** Props of {@link ServiceActions}. */
export interface ServiceActionsProps {
  /** The InferenceService entity ref (the permission's resource). */
  entityRef: string;
  service: EntityName;
  deployment: Deployment;
  /** Revisions, newest first (for the rollback target). */
  revisions: DeploymentRevision[];
  /** Called after a successful action (reload the data). */
  onChanged(): void;
}

/**
 * Update (canary), promote and roll back buttons. They change the InferenceService in its
 * namespace and record a revision, so they need what the backend checks: `kubeai.deployment.update`
 * on the InferenceService entity and `kubeai.cluster.object.create` in the deployment's namespace
 * (under the `ownership` policy: the owning team's members and the platform admins). Disabled
 * while that is being decided; when either is denied there are no buttons, only the reason. Every
 * action asks for confirmation and shows its result.
 */
export function ServiceActions(props: ServiceActionsProps) {
  const { entityRef, service, deployment, revisions } = props;
  const actions = useApiHolder().get(inferenceServiceActionsApiRef);
  const update = usePermission({
    permission: kubeaiDeploymentUpdatePermission,
    resourceRef: entityRef,
  });
  const place = clusterNamespaceRef(deployment.cluster, deployment.namespace);
  const create = usePermission({
    permission: kubeaiClusterObjectCreatePermission,
    resourceRef: place,
  });
  const [pending, setPending] = useState<Pending | undefined>();
  const runner = useActionRunner<InferenceServiceActionResult>();
  const { busy, result } = runner;

  if (!actions) {
    return (
      <Typography variant="body2" color="textSecondary">
        Changing the deployment is not available in this app (no inference
        service actions API).
      </Typography>
    );
  }

  const canary = canaryOf(deployment.traffic);
  const previous = revisions
    .filter(r => r.revision < deployment.revision)
    .sort((a, b) => b.revision - a.revision)[0];
  const deciding = update.loading || create.loading;
  const refusals = [
    ...(!update.loading && !update.allowed
      ? [`kubeai.deployment.update on ${entityRef}`]
      : []),
    ...(!create.loading && !create.allowed
      ? [`kubeai.cluster.object.create in ${place}`]
      : []),
  ];
  if (refusals.length > 0) {
    return (
      <Typography variant="body2" color="textSecondary" role="note">
        Read only: you may not change this deployment (permission{' '}
        {refusals.join(' and ')}).
      </Typography>
    );
  }
  const disabled = deciding || busy;

  const run = (fn: () => Promise<InferenceServiceActionResult>) =>
    runner.run(fn, {
      onSuccess: props.onChanged,
      onSettled: () => setPending(undefined),
    });

  return (
    <Box>
      <Box display="flex" flexWrap="wrap" style={{ gap: 8 }}>
        <Button
          variant="contained"
          color="primary"
          disabled={disabled}
          onClick={() => setPending({ kind: 'update' })}
        >
          Update version
        </Button>
        <Button
          variant="outlined"
          disabled={disabled || canary === undefined}
          onClick={() =>
            canary !== undefined &&
            setPending({ kind: 'promote', version: canary })
          }
        >
          {canary !== undefined ? `Promote v${canary}` : 'Promote'}
        </Button>
        <Button
          variant="outlined"
          disabled={disabled || !previous}
          onClick={() =>
            previous && setPending({ kind: 'rollback', target: previous })
          }
        >
          Roll back
        </Button>
      </Box>
      <Box mt={1}>
        {canary === undefined && (
          <Typography variant="caption" color="textSecondary" component="p">
            Promote: there is no canary (a single version serves all the
            traffic).
          </Typography>
        )}
        {!previous && (
          <Typography variant="caption" color="textSecondary" component="p">
            Roll back: there is no earlier revision.
          </Typography>
        )}
      </Box>
      {result?.ok && (
        <Box mt={1} role="status">
          <Typography variant="body2" style={{ color: '#2e7d32' }}>
            Done. {result.value.message}
          </Typography>
        </Box>
      )}
      {result && !result.ok && (
        <Box mt={1}>
          <ErrorState error={result.error} title="The change failed" />
        </Box>
      )}

      {pending?.kind === 'update' && (
        <UpdateDialog
          deployment={deployment}
          busy={busy}
          onCancel={() => setPending(undefined)}
          onConfirm={(version, canaryPercent) =>
            run(() => actions.update(service, { version, canaryPercent }))
          }
        />
      )}
      {pending?.kind === 'promote' && (
        <ConfirmDialog
          title={`Promote v${pending.version}?`}
          text={`v${
            pending.version
          } will get 100% of the traffic (now ${formatTraffic(
            deployment.traffic,
          )}).`}
          confirm="Promote"
          busy={busy}
          onCancel={() => setPending(undefined)}
          onConfirm={() => run(() => actions.promote(service))}
        />
      )}
      {pending?.kind === 'rollback' && (
        <ConfirmDialog
          title={`Roll back to revision ${pending.target.revision}?`}
          text={`The service goes back to ${formatTraffic(
            pending.target.traffic,
          )} (now ${formatTraffic(deployment.traffic)}, revision ${
            deployment.revision
          }).`}
          confirm="Roll back"
          busy={busy}
          onCancel={() => setPending(undefined)}
          onConfirm={() =>
            run(() =>
              actions.rollback(service, {
                toRevision: pending.target.revision,
              }),
            )
          }
        />
      )}
    </Box>
  );
}

function ConfirmDialog(props: {
  title: string;
  text: string;
  confirm: string;
  busy: boolean;
  onCancel(): void;
  onConfirm(): void;
}) {
  return (
    <Dialog
      open
      onClose={props.onCancel}
      aria-labelledby="kubeai-confirm-title"
    >
      <DialogTitle id="kubeai-confirm-title">{props.title}</DialogTitle>
      <DialogContent>
        <DialogContentText>{props.text}</DialogContentText>
      </DialogContent>
      <DialogActions>
        <Button onClick={props.onCancel} disabled={props.busy}>
          Cancel
        </Button>
        <Button
          color="primary"
          variant="contained"
          onClick={props.onConfirm}
          disabled={props.busy}
        >
          {props.confirm}
        </Button>
      </DialogActions>
    </Dialog>
  );
}

function UpdateDialog(props: {
  deployment: Deployment;
  busy: boolean;
  onCancel(): void;
  onConfirm(version: number, canaryPercent: number): void;
}) {
  const { deployment } = props;
  const api = useApi(kubeaiApiRef);
  const versions = useAsync(
    () =>
      api.listModelVersions(entityNameOf(deployment.modelRef), {
        state: 'live',
        limit: 1000,
      }),
    [api, deployment.modelRef],
  );
  const [version, setVersion] = useState<number | ''>('');
  const [percent, setPercent] = useState('10');
  let preview: string | undefined;
  let problem: string | undefined;
  if (version !== '') {
    try {
      preview = formatTraffic(
        canaryTraffic(deployment.traffic, version, Number(percent)),
      );
    } catch (e) {
      problem = errorMessage(e);
    }
  }
  return (
    <Dialog
      open
      onClose={props.onCancel}
      aria-labelledby="kubeai-update-title"
      fullWidth
      maxWidth="sm"
    >
      <DialogTitle id="kubeai-update-title">
        Update the served version
      </DialogTitle>
      <DialogContent>
        <DialogContentText>
          Now: {formatTraffic(deployment.traffic)} ({deployment.modelRef}). The
          new version gets the canary share; the rest stays on the version with
          the largest share.
        </DialogContentText>
        {versions.error ? (
          <ErrorState
            error={versions.error}
            title="Could not load the model versions"
          />
        ) : (
          <FormControl fullWidth margin="dense">
            <InputLabel id="kubeai-update-version">Model version</InputLabel>
            <Select
              labelId="kubeai-update-version"
              name="kubeai-update-version"
              value={version}
              disabled={versions.loading}
              onChange={e => setVersion(Number(e.target.value))}
            >
              {(versions.value?.items ?? []).map(v => (
                <MenuItem key={v.version} value={v.version}>
                  v{v.version}
                  {v.aliases.length ? ` (${v.aliases.join(', ')})` : ''}
                </MenuItem>
              ))}
            </Select>
          </FormControl>
        )}
        <TextField
          id="kubeai-update-canary"
          label="Canary share (%)"
          type="number"
          margin="dense"
          fullWidth
          value={percent}
          inputProps={{ min: 1, max: 100, step: 1 }}
          onChange={e => setPercent(e.target.value)}
          helperText="100 replaces the served version."
        />
        {preview && (
          <Typography variant="body2" role="status">
            New split: {preview}
          </Typography>
        )}
        {problem && (
          <Typography variant="body2" color="error" role="alert">
            {problem}
          </Typography>
        )}
      </DialogContent>
      <DialogActions>
        <Button onClick={props.onCancel} disabled={props.busy}>
          Cancel
        </Button>
        <Button
          color="primary"
          variant="contained"
          disabled={props.busy || version === '' || !preview}
          onClick={() =>
            version !== '' && props.onConfirm(version, Number(percent))
          }
        >
          Deploy
        </Button>
      </DialogActions>
    </Dialog>
  );
}
