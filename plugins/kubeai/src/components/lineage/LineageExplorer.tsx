import { useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { useApi } from '@backstage/core-plugin-api';
import type {
  GetLineageQuery,
  LineageNodeType,
} from '@kubeai/plugin-kubeai-common';
import Box from '@material-ui/core/Box';
import FormControl from '@material-ui/core/FormControl';
import InputLabel from '@material-ui/core/InputLabel';
import MenuItem from '@material-ui/core/MenuItem';
import Select from '@material-ui/core/Select';
import { kubeaiApiRef } from '../../api/refs';
import { ErrorState, LoadingState } from '../common/States';
import { LineageGraphView, LineageGraphViewProps } from './LineageGraphView';
import { useLineageLinks } from './useLineageLinks';

/** Where the lineage starts: an entity (optionally one version of it) or a run. */
export interface LineageStart {
  entityRef?: string;
  version?: string;
  runId?: string;
}

/** Props of {@link LineageExplorer}. */
export interface LineageExplorerProps {
  start: LineageStart;
  initialDepth?: number;
  initialDirection?: GetLineageQuery['direction'];
  initialHiddenTypes?: LineageNodeType[];
  height?: number;
  /** Called once the first frame of the graph is drawn. */
  onReady?(): void;
  /** Called after a selection change was applied (benchmarks, analytics). */
  onSelectionChange?(id: string | undefined): void;
  /** Receives the canvas controls (benchmarks). */
  canvasRef?: LineageGraphViewProps['canvasRef'];
}

const DEPTHS = [1, 2, 3, 4, 5, 6, 8, 10];

/** Loads the lineage around a start and shows it, with depth and direction controls. */
export function LineageExplorer(props: LineageExplorerProps) {
  const { start } = props;
  const api = useApi(kubeaiApiRef);
  const { nodeHref, lineageHref } = useLineageLinks();
  const [depth, setDepth] = useState(props.initialDepth ?? 3);
  const [direction, setDirection] = useState<
    NonNullable<GetLineageQuery['direction']>
  >(props.initialDirection ?? 'both');
  const state = useAsync(
    () =>
      api.getLineage({
        entityRef: start.entityRef,
        version: start.version,
        runId: start.runId,
        depth,
        direction,
      }),
    [api, start.entityRef, start.version, start.runId, depth, direction],
  );

  const controls = (
    <Box display="flex" mr={2} style={{ gap: 16 }}>
      <FormControl size="small" style={{ minWidth: 110 }}>
        <InputLabel id="kubeai-lineage-depth">Depth</InputLabel>
        <Select
          labelId="kubeai-lineage-depth"
          name="kubeai-lineage-depth"
          value={depth}
          onChange={e => setDepth(Number(e.target.value))}
        >
          {DEPTHS.map(d => (
            <MenuItem key={d} value={d}>
              {d} {d === 1 ? 'hop' : 'hops'}
            </MenuItem>
          ))}
        </Select>
      </FormControl>
      <FormControl size="small" style={{ minWidth: 150 }}>
        <InputLabel id="kubeai-lineage-direction">Direction</InputLabel>
        <Select
          labelId="kubeai-lineage-direction"
          name="kubeai-lineage-direction"
          value={direction}
          onChange={e => setDirection(e.target.value as typeof direction)}
        >
          <MenuItem value="both">Both directions</MenuItem>
          <MenuItem value="upstream">Upstream</MenuItem>
          <MenuItem value="downstream">Downstream</MenuItem>
        </Select>
      </FormControl>
    </Box>
  );

  if (state.error) {
    return (
      <>
        {controls}
        <ErrorState error={state.error} title="Could not load the lineage" />
      </>
    );
  }
  if (state.loading || !state.value) {
    return (
      <>
        {controls}
        <LoadingState label="Loading the lineage" />
      </>
    );
  }
  return (
    <LineageGraphView
      key={`${depth}-${direction}`}
      graph={state.value}
      nodeHref={nodeHref}
      lineageHref={lineageHref}
      controls={controls}
      height={props.height}
      initialHiddenTypes={props.initialHiddenTypes}
      onReady={props.onReady}
      onSelectionChange={props.onSelectionChange}
      canvasRef={props.canvasRef}
    />
  );
}
