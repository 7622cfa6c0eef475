import { useState } from 'react';
import { useApi } from '@backstage/core-plugin-api';
import { usePermission } from '@backstage/plugin-permission-react';
import {
  kubeaiModelVersionUpdatePermission,
  type ModelVersion,
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
import Paper from '@material-ui/core/Paper';
import Select from '@material-ui/core/Select';
import Typography from '@material-ui/core/Typography';
import { kubeaiApiRef } from '../../api/refs';
import { ErrorState } from '../common/States';
import { ImpactView } from './ImpactView';

/**
 * The impact of retiring one version of a model (services serving it, models depending on the
 * model, …) and its archive: the confirmation shows the impact again, fetched when it opens, and
 * the server's refusal (409 while anything serves the version) as it says it. Archiving needs
 * `kubeai.model.version.update` on the Model; without it the button is disabled with the reason.
 */
export function ModelVersionImpact(props: {
  modelRef: string;
  versions: ModelVersion[];
  initialVersion: number;
}) {
  const { modelRef, versions } = props;
  const api = useApi(kubeaiApiRef);
  const [selected, setSelected] = useState(props.initialVersion);
  // states changed here, until the list is loaded again
  const [states, setStates] = useState<Record<number, string>>({});
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [reload, setReload] = useState(0);
  const permission = usePermission({
    permission: kubeaiModelVersionUpdatePermission,
    resourceRef: modelRef,
  });
  const version = versions.find(v => v.version === selected) ?? versions[0];
  const state = states[version.version] ?? version.state;
  const [namespace, name] = modelRef
    .slice(modelRef.indexOf(':') + 1)
    .split('/');
  const denied = !permission.loading && !permission.allowed;

  const archive = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const updated = await api.updateModelVersion(
        { namespace, name },
        version.version,
        { state: 'archived' },
      );
      setStates(s => ({ ...s, [updated.version]: updated.state }));
      setOpen(false);
      setReload(r => r + 1);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Paper variant="outlined">
      <Box
        p={2}
        component="section"
        aria-label={`Impact of retiring v${version.version}`}
      >
        <Typography variant="h6" component="h2" gutterBottom>
          Impact of retiring a version
        </Typography>
        <Box display="flex" alignItems="center" mb={2} style={{ gap: 16 }}>
          <FormControl size="small" style={{ minWidth: 200 }}>
            <InputLabel id="kubeai-impact-version">
              Version to retire
            </InputLabel>
            <Select
              labelId="kubeai-impact-version"
              value={version.version}
              onChange={e => {
                setSelected(Number(e.target.value));
                setError(undefined);
              }}
            >
              {versions.map(v => (
                <MenuItem key={v.version} value={v.version}>
                  v{v.version}
                  {v.aliases.length ? ` (${v.aliases.join(', ')})` : ''}
                </MenuItem>
              ))}
            </Select>
          </FormControl>
          {state === 'archived' ? (
            <Typography variant="body2">
              v{version.version} is archived.
            </Typography>
          ) : (
            <Button
              variant="outlined"
              color="secondary"
              disabled={permission.loading || denied || busy}
              aria-describedby={denied ? 'kubeai-archive-denied' : undefined}
              onClick={() => {
                setError(undefined);
                setOpen(true);
              }}
            >
              Archive v{version.version}
            </Button>
          )}
        </Box>
        {denied && (
          <Typography
            variant="body2"
            color="textSecondary"
            id="kubeai-archive-denied"
            paragraph
          >
            You are not allowed to archive versions of this model (permission
            kubeai.model.version.update).
          </Typography>
        )}
        <ImpactView
          entityRef={modelRef}
          version={String(version.version)}
          noun="version"
          reload={reload}
        />
      </Box>
      <Dialog
        open={open}
        onClose={() => !busy && setOpen(false)}
        aria-labelledby="kubeai-archive-title"
        maxWidth="md"
        fullWidth
      >
        <DialogTitle id="kubeai-archive-title">
          Archive v{version.version}?
        </DialogTitle>
        <DialogContent>
          <DialogContentText>
            An archived version stays in the lineage but can no longer be
            deployed or hold aliases. The portal refuses while a service serves
            it: move the traffic to another version first.
          </DialogContentText>
          <ImpactView
            entityRef={modelRef}
            version={String(version.version)}
            noun="version"
          />
          {error !== undefined && (
            <Box mt={2}>
              <ErrorState
                title={`v${version.version} was not archived`}
                error={error}
              />
            </Box>
          )}
        </DialogContent>
        <DialogActions>
          <Button onClick={() => setOpen(false)} disabled={busy}>
            Cancel
          </Button>
          <Button color="secondary" onClick={archive} disabled={busy}>
            Archive
          </Button>
        </DialogActions>
      </Dialog>
    </Paper>
  );
}
