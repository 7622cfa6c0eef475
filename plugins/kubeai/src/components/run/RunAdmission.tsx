import type { Run } from '@kubeai/plugin-kubeai-common';
import { WarningPanel } from '@backstage/core-components';
import Typography from '@material-ui/core/Typography';
import { formatDate } from '../common/format';

/** `cv-team` → <code>cv-team</code> inside a sentence of Kueue names. */
function withCode(text: string) {
  return text
    .split(/(`[^`]*`)/)
    .map((part, i) =>
      part.startsWith('`') && part.endsWith('`') && part.length > 1 ? (
        <code key={i}>{part.slice(1, -1)}</code>
      ) : (
        part
      ),
    );
}

/**
 * Where Kueue admitted the run ("admitted to `cv-team` on `elastic`") or why it waits, from its
 * Workload as the informers observed it; before that, where routing sent it.
 */
export function RunAdmission(props: { run: Run }) {
  const { admission, clusterQueue, flavor } = props.run;
  if (admission?.state === 'pending' || admission?.state === 'evicted') {
    return (
      <WarningPanel
        severity="info"
        title={
          admission.state === 'pending'
            ? 'Waiting for quota'
            : 'Evicted, waiting for quota again'
        }
      >
        <Typography variant="body2" aria-label="Admission">
          {withCode(admission.message)}
          {admission.since ? ` (since ${formatDate(admission.since)})` : ''}
        </Typography>
      </WarningPanel>
    );
  }
  if (admission) {
    return (
      <Typography variant="body2" aria-label="Admission">
        {withCode(admission.message)}
        {admission.since ? ` · ${formatDate(admission.since)}` : ''}
      </Typography>
    );
  }
  if (!clusterQueue) return null;
  return (
    <Typography variant="body2" aria-label="Admission">
      routed to <code>{clusterQueue}</code>
      {flavor ? (
        <>
          {' '}
          on <code>{flavor}</code>
        </>
      ) : null}
      , not yet seen by Kueue
    </Typography>
  );
}
