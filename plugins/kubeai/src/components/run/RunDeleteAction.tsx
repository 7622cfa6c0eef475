import { useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { useApi } from '@backstage/core-plugin-api';
import { usePermission } from '@backstage/plugin-permission-react';
import {
  ClusterDeleteResult,
  ClusterObjectRef,
  isTrainingWorkloadKind,
  KubeaiApi,
  clusterNamespaceRef,
  kubeaiClusterObjectDeletePermission,
  Run,
  RUN_ROLES,
  TrainingKind,
} from '@kubeai/plugin-kubeai-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogContentText from '@material-ui/core/DialogContentText';
import DialogTitle from '@material-ui/core/DialogTitle';
import Typography from '@material-ui/core/Typography';
import { kubeaiApiRef } from '../../api/refs';
import { errorMessage } from '../common/format';
import { ErrorState, LoadingState } from '../common/States';
import { useActionRunner } from '../common/useActionRunner';

/** The training kind a run records (observed by the informers, or the create route's param). */
export function trainingKindOf(run: Run): TrainingKind | undefined {
  for (const kind of [run.observed?.kind, run.params?.objectKind]) {
    if (isTrainingWorkloadKind(kind)) {
      return kind;
    }
  }
  return undefined;
}

/** True when the run page can delete the run's object (a notebook, training task or pipeline). */
export function canDeleteRunObject(run: Run): boolean {
  return (
    (RUN_ROLES as readonly string[]).includes(run.kind) &&
    Boolean(run.cluster && run.namespace && run.name)
  );
}

/** What the run's object is called in the confirmation (`Notebook`, `TFJob`, `pipeline`, …). */
export function runObjectLabel(run: Run): string {
  if (run.kind === 'notebook') return 'Notebook';
  if (run.kind === 'training') return trainingKindOf(run) ?? 'training task';
  return run.observed?.kind ?? 'pipeline';
}

function deleteRunObject(
  api: KubeaiApi,
  run: Run,
  dryRun: boolean,
): Promise<ClusterDeleteResult> {
  const target = {
    cluster: run.cluster,
    namespace: run.namespace,
    name: run.name,
  };
  switch (run.kind) {
    case 'notebook':
      return api.deleteNotebook(target, { dryRun });
    case 'training': {
      const kind = trainingKindOf(run);
      return api.deleteJob(target, { ...(kind ? { kind } : {}), dryRun });
    }
    case 'pipeline':
      return api.deletePipeline(target, { dryRun });
    default:
      return Promise.reject(
        new Error(`Runs of kind ${run.kind} have no object to delete`),
      );
  }
}

/** HTTP status of a client error, if any. */
function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

function describeRef(ref: ClusterObjectRef): string {
  return `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}

/** Props of {@link RunDeleteAction}. */
export interface RunDeleteActionProps {
  run: Run;
  /** Called after a successful delete (reload the run). */
  onChanged(): void;
}

/**
 * "Delete from cluster" for the object of a notebook, training or pipeline run. Gated by
 * `kubeai.cluster.object.delete`: disabled with the reason when denied. The confirmation names
 * the object and lists what a dry run says would be deleted; the answer's `deleted` list is shown
 * afterwards. Renders nothing for runs without an object to delete.
 */
export function RunDeleteAction(props: RunDeleteActionProps) {
  const { run } = props;
  const api = useApi(kubeaiApiRef);
  // decided for the run's namespace (e.g. only its owning team may delete)
  const permission = usePermission({
    permission: kubeaiClusterObjectDeletePermission,
    resourceRef: clusterNamespaceRef(run.cluster ?? '', run.namespace ?? ''),
  });
  const [open, setOpen] = useState(false);
  const runner = useActionRunner<ClusterDeleteResult>();
  const { busy, result } = runner;

  if (!canDeleteRunObject(run)) return null;

  const label = runObjectLabel(run);
  const denied = !permission.loading && !permission.allowed;
  const alreadyDeleted = Boolean(run.observed?.deleted);
  const disabled = permission.loading || denied || busy || alreadyDeleted;
  const reasonId = `kubeai-run-delete-reason-${run.id}`;
  const describedBy = denied || alreadyDeleted ? reasonId : undefined;

  const confirm = () =>
    runner.run(() => deleteRunObject(api, run, false), {
      onSuccess: props.onChanged,
      onSettled: () => setOpen(false),
    });

  return (
    <Box>
      <Button
        variant="outlined"
        color="secondary"
        disabled={disabled}
        aria-describedby={describedBy}
        onClick={() => setOpen(true)}
      >
        Delete from cluster
      </Button>
      {denied && (
        <Typography
          variant="body2"
          color="textSecondary"
          id={reasonId}
          component="p"
        >
          You are not allowed to delete objects from the cluster (permission
          kubeai.cluster.object.delete).
        </Typography>
      )}
      {!denied && alreadyDeleted && (
        <Typography
          variant="body2"
          color="textSecondary"
          id={reasonId}
          component="p"
        >
          The {label} was already deleted from the cluster.
        </Typography>
      )}
      {result?.ok && (
        <Box mt={1} role="status" aria-label="Deleted from the cluster">
          <Typography variant="body2" style={{ color: '#2e7d32' }}>
            Deleted from cluster {result.value.object.cluster}:
          </Typography>
          <ul style={{ margin: 0, paddingLeft: 16 }}>
            {result.value.deleted.map(ref => (
              <li key={`${ref.apiVersion}/${ref.kind}/${ref.name}`}>
                <Typography variant="body2" component="span">
                  {describeRef(ref)}
                </Typography>
              </li>
            ))}
          </ul>
          {result.value.deleted.length === 0 && (
            <Typography variant="body2">Nothing was left to delete.</Typography>
          )}
          <Typography variant="caption" color="textSecondary">
            {result.value.message}
          </Typography>
        </Box>
      )}
      {result && !result.ok && (
        <Box mt={1}>
          <ErrorState error={result.error} title="The delete failed" />
        </Box>
      )}
      {open && (
        <DeleteDialog
          run={run}
          label={label}
          busy={busy}
          preview={() => deleteRunObject(api, run, true)}
          onCancel={() => setOpen(false)}
          onConfirm={confirm}
        />
      )}
    </Box>
  );
}

function DeleteDialog(props: {
  run: Run;
  label: string;
  busy: boolean;
  preview(): Promise<ClusterDeleteResult>;
  onCancel(): void;
  onConfirm(): void;
}) {
  const { run, label } = props;
  // A server-side dry run: what would be deleted (e.g. a notebook's workspace PVC too), and
  // whether the delete would be refused (403, 404, 409) before anything changes.
  const preview = useAsync(() => props.preview(), [run.id]);
  const refused = [403, 404, 409].includes(statusOf(preview.error) ?? 0);
  return (
    <Dialog
      open
      onClose={props.busy ? undefined : props.onCancel}
      aria-labelledby="kubeai-run-delete-title"
      fullWidth
      maxWidth="sm"
    >
      <DialogTitle id="kubeai-run-delete-title">
        Delete {label} {run.namespace}/{run.name}?
      </DialogTitle>
      <DialogContent>
        <DialogContentText>
          The {label} {run.namespace}/{run.name} will be deleted from cluster{' '}
          {run.cluster}. An unfinished run is marked Stopped; the run stays in
          the registry.
        </DialogContentText>
        {preview.loading && (
          <LoadingState label="Checking what will be deleted" />
        )}
        {preview.value && (
          <>
            <Typography variant="subtitle2" component="p">
              Objects that will be deleted:
            </Typography>
            <ul aria-label="Objects to delete" style={{ marginTop: 0 }}>
              {preview.value.deleted.map(ref => (
                <li key={`${ref.apiVersion}/${ref.kind}/${ref.name}`}>
                  {describeRef(ref)}
                </li>
              ))}
            </ul>
          </>
        )}
        {preview.error && (
          <Typography variant="body2" color="error" role="alert">
            {refused
              ? `The delete would be refused: ${errorMessage(preview.error)}`
              : `The dry run failed: ${errorMessage(preview.error)}`}
          </Typography>
        )}
      </DialogContent>
      <DialogActions>
        <Button onClick={props.onCancel} disabled={props.busy}>
          Cancel
        </Button>
        <Button
          color="secondary"
          variant="contained"
          onClick={props.onConfirm}
          disabled={props.busy || preview.loading || refused}
        >
          Delete
        </Button>
      </DialogActions>
    </Dialog>
  );
}
