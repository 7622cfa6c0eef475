import { useEffect, useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { useApi } from '@backstage/core-plugin-api';
import { InfoCard } from '@backstage/core-components';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { useEntity } from '@backstage/plugin-catalog-react';
import type { AuditEvent } from '@kubeai/plugin-kubeai-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Chip from '@material-ui/core/Chip';
import List from '@material-ui/core/List';
import ListItem from '@material-ui/core/ListItem';
import ListItemText from '@material-ui/core/ListItemText';
import Typography from '@material-ui/core/Typography';
import { kubeaiApiRef } from '../../api/refs';
import { errorMessage, formatAgo, formatDate } from '../common/format';
import { LoadingState } from '../common/States';

/** Events per page of the card. */
const PAGE = 20;

/** Which events: those of a catalog entity or of a run. */
export type ActivityFilter = { entityRef: string } | { runId: string };

/**
 * The audit trail of an entity or a run (`GET /audit-events`), newest first: what was done, by
 * whom, when; denied and failed requests marked, with their reason. A new `reload` value refetches
 * (e.g. after the page changed something).
 */
export function ActivityCard(props: {
  filter: ActivityFilter;
  title?: string;
  reload?: unknown;
}) {
  const api = useApi(kubeaiApiRef);
  const key = JSON.stringify(props.filter);
  const [older, setOlder] = useState<{
    items: AuditEvent[];
    nextBefore?: number;
  }>({ items: [] });
  const [loadingOlder, setLoadingOlder] = useState<unknown>(false);
  const first = useAsync(
    () => api.listAuditEvents({ ...props.filter, limit: PAGE }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [api, key, props.reload],
  );
  useEffect(() => setOlder({ items: [] }), [key, props.reload]);

  const cursor = older.items.length
    ? older.nextBefore
    : first.value?.nextBefore;
  const loadOlder = async () => {
    setLoadingOlder(true);
    try {
      const page = await api.listAuditEvents({
        ...props.filter,
        limit: PAGE,
        before: cursor,
      });
      setOlder(o => ({
        items: [...o.items, ...page.items],
        nextBefore: page.nextBefore,
      }));
      setLoadingOlder(false);
    } catch (error) {
      setLoadingOlder(error);
    }
  };

  let content;
  if (first.error) {
    content = (
      <Typography variant="body2" color="error">
        Could not load the activity: {errorMessage(first.error)}
      </Typography>
    );
  } else if (!first.value) {
    content = <LoadingState label="Loading the activity" />;
  } else if (first.value.items.length === 0) {
    content = (
      <Typography variant="body2">
        No changes recorded yet. Every change made through the portal, its
        templates or the KubeAI API appears here, including refused ones.
      </Typography>
    );
  } else {
    const events = [...first.value.items, ...older.items];
    content = (
      <>
        <List dense aria-label="Activity" disablePadding>
          {events.map(event => (
            <ActivityItem key={event.id} event={event} />
          ))}
        </List>
        {cursor !== undefined && (
          <Box mt={1} display="flex" alignItems="center" style={{ gap: 8 }}>
            <Button
              size="small"
              variant="outlined"
              disabled={loadingOlder === true}
              onClick={loadOlder}
            >
              Older
            </Button>
            {loadingOlder instanceof Error && (
              <Typography variant="caption" color="error">
                {errorMessage(loadingOlder)}
              </Typography>
            )}
          </Box>
        )}
      </>
    );
  }
  return <InfoCard title={props.title ?? 'Activity'}>{content}</InfoCard>;
}

/** One event: its summary, who and when, and how it ended when it did not succeed. */
export function ActivityItem(props: { event: AuditEvent }) {
  const { event } = props;
  const marks = [
    event.outcome === 'denied' && (
      <Chip
        key="denied"
        size="small"
        label="Denied"
        style={{ backgroundColor: '#c62828', color: '#fff' }}
      />
    ),
    event.outcome === 'failed' && (
      <Chip
        key="failed"
        size="small"
        variant="outlined"
        label={`Failed (${event.status})`}
        style={{ borderColor: '#c62828', color: '#c62828' }}
      />
    ),
    event.dryRun && (
      <Chip key="dry" size="small" variant="outlined" label="Dry run" />
    ),
  ].filter(Boolean);
  return (
    <ListItem disableGutters divider aria-label={event.summary}>
      <ListItemText
        primary={
          <Box display="flex" alignItems="center" style={{ gap: 8 }}>
            {marks}
            <span>{event.summary}</span>
          </Box>
        }
        secondary={
          <>
            {'by '}
            {event.actor},{' '}
            <time
              dateTime={event.occurredAt}
              title={formatDate(event.occurredAt)}
            >
              {formatAgo(event.occurredAt)}
            </time>
            {event.error && (
              <Typography
                variant="caption"
                component="span"
                display="block"
                color="error"
              >
                {event.error}
              </Typography>
            )}
          </>
        }
      />
    </ListItem>
  );
}

/** The activity of the entity of the page (Model, Dataset, InferenceService). */
export function EntityActivityCard() {
  const { entity } = useEntity();
  return <ActivityCard filter={{ entityRef: stringifyEntityRef(entity) }} />;
}
