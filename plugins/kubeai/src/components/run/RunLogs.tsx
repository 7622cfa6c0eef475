import { useEffect, useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { useApi } from '@backstage/core-plugin-api';
import { InfoCard } from '@backstage/core-components';
import { usePermission } from '@backstage/plugin-permission-react';
import {
  kubeaiRunLogsReadPermission,
  type Run,
} from '@kubeai/plugin-kubeai-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Typography from '@material-ui/core/Typography';
import { kubeaiApiRef } from '../../api/refs';
import { errorMessage } from '../common/format';
import { LoadingState } from '../common/States';

/** Lines asked for from the end of each pod's log. */
export const LOG_TAIL = 200;
/** Characters kept while following (the oldest go first). */
const FOLLOW_LIMIT = 500_000;

/** What a failed logs request means for the reader (the server's message is kept). */
export function logsProblem(error: unknown): string {
  const status = (error as { statusCode?: number } | undefined)?.statusCode;
  const message = errorMessage(error);
  switch (status) {
    case 404:
      return `No pods to read logs from (not started yet, or already removed): ${message}`;
    case 409:
      return `A pod is not scheduled to a node yet: ${message}`;
    case 503:
      return `The cluster or the pod's node cannot be reached: ${message}`;
    default:
      return message;
  }
}

/**
 * The logs of a run's pods, read through the KubeAI backend (`GET /runs/{id}/logs`): the last
 * {@link LOG_TAIL} lines, refreshable, and "Follow" to stream new lines until the pods end.
 * Needs `kubeai.run.logs.read`.
 */
export function RunLogs(props: { run: Run }) {
  const { run } = props;
  const api = useApi(kubeaiApiRef);
  const permission = usePermission({
    permission: kubeaiRunLogsReadPermission,
  });
  const [reload, setReload] = useState(0);
  const [following, setFollowing] = useState(false);
  const [followed, setFollowed] = useState('');
  const [followError, setFollowError] = useState<unknown>();

  const snapshot = useAsync(
    async () =>
      permission.allowed
        ? api.getRunLogs(run.id, { tail: LOG_TAIL })
        : undefined,
    [api, run.id, reload, permission.allowed],
  );

  useEffect(() => {
    if (!following) return undefined;
    const controller = new AbortController();
    setFollowed('');
    setFollowError(undefined);
    (async () => {
      try {
        const stream = await api.followRunLogs(
          run.id,
          { tail: LOG_TAIL },
          { signal: controller.signal },
        );
        const reader = stream.getReader();
        const decoder = new TextDecoder();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          const text = decoder.decode(value, { stream: true });
          setFollowed(current => (current + text).slice(-FOLLOW_LIMIT));
        }
      } catch (error) {
        if (!controller.signal.aborted) setFollowError(error);
      } finally {
        if (!controller.signal.aborted) setFollowing(false);
      }
    })();
    return () => controller.abort();
  }, [api, run.id, following]);

  let body;
  if (permission.loading) {
    body = <LoadingState label="Checking permissions" />;
  } else if (!permission.allowed) {
    body = (
      <Typography variant="body2" color="textSecondary">
        You may not read the logs of runs (permission kubeai.run.logs.read).
      </Typography>
    );
  } else if (following || followed || followError) {
    body = (
      <>
        {followError !== undefined && (
          <Typography role="alert" variant="body2" color="error">
            {logsProblem(followError)}
          </Typography>
        )}
        <LogText text={followed} label="Followed log lines" />
      </>
    );
  } else if (snapshot.loading) {
    body = <LoadingState label="Loading the logs" />;
  } else if (snapshot.error) {
    body = (
      <Typography role="alert" variant="body2" color="textSecondary">
        {logsProblem(snapshot.error)}
      </Typography>
    );
  } else {
    body = <LogText text={snapshot.value ?? ''} label="Log lines" />;
  }

  return (
    <InfoCard
      title="Pod logs"
      subheader={`The last ${LOG_TAIL} lines of each pod of ${run.namespace}/${run.name}`}
    >
      <Box display="flex" style={{ gap: 8 }} mb={1}>
        <Button
          size="small"
          variant="outlined"
          disabled={!permission.allowed || following}
          onClick={() => {
            setFollowed('');
            setFollowError(undefined);
            setReload(n => n + 1);
          }}
        >
          Refresh
        </Button>
        <Button
          size="small"
          variant={following ? 'contained' : 'outlined'}
          color={following ? 'primary' : 'default'}
          disabled={!permission.allowed}
          aria-pressed={following}
          onClick={() => setFollowing(f => !f)}
        >
          {following ? 'Stop following' : 'Follow'}
        </Button>
      </Box>
      {body}
    </InfoCard>
  );
}

function LogText(props: { text: string; label: string }) {
  return props.text ? (
    <Box
      component="pre"
      aria-label={props.label}
      m={0}
      p={1}
      maxHeight={480}
      overflow="auto"
      fontFamily="monospace"
      fontSize={12}
      style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}
    >
      {props.text}
    </Box>
  ) : (
    <Typography variant="body2" color="textSecondary">
      No log lines yet.
    </Typography>
  );
}
