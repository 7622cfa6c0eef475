import { ReactNode } from 'react';
import {
  EmptyState as BackstageEmptyState,
  Progress,
  WarningPanel,
} from '@backstage/core-components';
import Box from '@material-ui/core/Box';
import Typography from '@material-ui/core/Typography';
import { errorMessage } from './format';

/** A progress bar with an accessible label. */
export function LoadingState(props: { label?: string }) {
  const label = props.label ?? 'Loading';
  return (
    <Box role="status" aria-label={label} aria-busy="true" py={2}>
      <Progress />
      <Typography variant="srOnly" component="span">
        {label}…
      </Typography>
    </Box>
  );
}

/** The error of a failed call: the server's message, never a stack trace. */
export function ErrorState(props: {
  error: unknown;
  title?: string;
  action?: ReactNode;
}) {
  return (
    <WarningPanel
      severity="error"
      title={props.title ?? 'Could not load the data'}
      message={errorMessage(props.error)}
      defaultExpanded
    >
      {props.action}
    </WarningPanel>
  );
}

/** Nothing to show yet, and why. */
export function EmptyState(props: {
  title: string;
  description?: ReactNode;
  action?: JSX.Element;
}) {
  return (
    <BackstageEmptyState
      missing="data"
      title={props.title}
      description={props.description as string | JSX.Element | undefined}
      action={props.action}
    />
  );
}

/** Renders loading / error / content for a `useAsync` state. */
export function AsyncContent<T>(props: {
  state: { loading: boolean; error?: unknown; value?: T };
  loadingLabel?: string;
  errorTitle?: string;
  children: (value: T) => ReactNode;
}) {
  const { state } = props;
  if (state.loading && state.value === undefined) {
    return <LoadingState label={props.loadingLabel} />;
  }
  if (state.error) {
    return <ErrorState error={state.error} title={props.errorTitle} />;
  }
  if (state.value === undefined) {
    return <LoadingState label={props.loadingLabel} />;
  }
  return <>{props.children(state.value)}</>;
}
