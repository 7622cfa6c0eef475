import { ReactNode, useCallback, useMemo, useRef, useState } from 'react';
import { LinkButton } from '@backstage/core-components';
import type {
  LineageGraph,
  LineageNode,
  LineageNodeType,
} from '@kubeai/plugin-kubeai-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Checkbox from '@material-ui/core/Checkbox';
import FormControlLabel from '@material-ui/core/FormControlLabel';
import FormGroup from '@material-ui/core/FormGroup';
import Grid from '@material-ui/core/Grid';
import IconButton from '@material-ui/core/IconButton';
import List from '@material-ui/core/List';
import ListItem from '@material-ui/core/ListItem';
import ListItemText from '@material-ui/core/ListItemText';
import Paper from '@material-ui/core/Paper';
import TextField from '@material-ui/core/TextField';
import Tooltip from '@material-ui/core/Tooltip';
import Typography from '@material-ui/core/Typography';
import ZoomInIcon from '@material-ui/icons/ZoomIn';
import ZoomOutIcon from '@material-ui/icons/ZoomOut';
import FullscreenIcon from '@material-ui/icons/ZoomOutMap';
import { useNavigate } from 'react-router-dom';
import { EmptyState } from '../common/States';
import { NODE_COLORS } from './colors';
import {
  countByType,
  filterGraph,
  indexGraph,
  NODE_TYPE_TITLE,
  NODE_TYPE_TITLES,
  NODE_TYPES,
  pathThrough,
} from './graph';
import { layoutGraph } from './layout';
import { LineageCanvas, LineageCanvasHandle } from './LineageCanvas';

const LIST_LIMIT = 50;

/** Props of {@link LineageGraphView}. */
export interface LineageGraphViewProps {
  graph: LineageGraph;
  /** Link of a node (entity page, run view), if it has one. */
  nodeHref?(node: LineageNode): string | undefined;
  /** Link to the lineage that starts at a node, if it can be a start. */
  lineageHref?(node: LineageNode): string | undefined;
  /** Id of the node selected at first (default: the first root). */
  initialSelectedId?: string;
  /** Types hidden at first. */
  initialHiddenTypes?: LineageNodeType[];
  height?: number;
  /** Extra controls in the toolbar (depth, direction). */
  controls?: ReactNode;
  /** Called once the first frame of the graph is drawn. */
  onReady?(): void;
  /** Called after a selection change was applied (benchmarks, analytics). */
  onSelectionChange?(id: string | undefined): void;
  /** Receives the canvas controls (benchmarks). */
  canvasRef?: (handle: LineageCanvasHandle | null) => void;
}

/**
 * The interactive lineage graph: type filters, a canvas that scales to thousands of nodes, the
 * path through the selected node, its details with links, and an accessible list of the nodes.
 */
export function LineageGraphView(props: LineageGraphViewProps) {
  const { graph, nodeHref, lineageHref, height = 560 } = props;
  const navigate = useNavigate();
  const canvas = useRef<LineageCanvasHandle | null>(null);
  const [hidden, setHidden] = useState<Set<LineageNodeType>>(
    () => new Set(props.initialHiddenTypes ?? []),
  );
  const full = useMemo(() => indexGraph(graph), [graph]);
  const [selectedId, setSelectedId] = useState<string | undefined>(
    () =>
      props.initialSelectedId ??
      (full.roots.length === 1 ? full.nodes[full.roots[0]].id : undefined),
  );
  const [search, setSearch] = useState('');
  const counts = useMemo(() => countByType(full.nodes), [full]);
  const visible = useMemo(() => filterGraph(full, hidden), [full, hidden]);
  const layout = useMemo(() => layoutGraph(visible), [visible]);

  const selectedFull =
    selectedId !== undefined ? full.index.get(selectedId) : undefined;
  const selectedVisible =
    selectedId !== undefined ? visible.index.get(selectedId) : undefined;
  const path = useMemo(
    () =>
      selectedFull === undefined ? undefined : pathThrough(full, selectedFull),
    [full, selectedFull],
  );
  const highlighted = useMemo(() => {
    if (!path) return undefined;
    const set = new Set<number>();
    for (const i of path) {
      const v = visible.index.get(full.nodes[i].id);
      if (v !== undefined) set.add(v);
    }
    return set;
  }, [path, full, visible]);

  const select = useCallback(
    (id: string | undefined) => {
      setSelectedId(id);
      props.onSelectionChange?.(id);
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [props.onSelectionChange],
  );

  const open = (node: LineageNode) => {
    const href = nodeHref?.(node);
    if (href) navigate(href);
  };

  const selectedNode =
    selectedFull !== undefined ? full.nodes[selectedFull] : undefined;
  const pathCounts = useMemo(() => {
    if (!path || selectedFull === undefined) return undefined;
    const types = countByType([...path].map(i => full.nodes[i]));
    return NODE_TYPES.filter(t => types[t] > 0)
      .map(t => `${types[t]} ${NODE_TYPE_TITLES[t].toLowerCase()}`)
      .join(', ');
  }, [path, full, selectedFull]);

  const matches = useMemo(() => {
    const q = search.trim().toLowerCase();
    const list = visible.nodes.filter(
      n =>
        !q ||
        n.label.toLowerCase().includes(q) ||
        n.id.toLowerCase().includes(q),
    );
    return { total: list.length, shown: list.slice(0, LIST_LIMIT) };
  }, [visible, search]);

  const present = NODE_TYPES.filter(t => counts[t] > 0);
  const canvasLabel = `Lineage graph with ${visible.nodes.length} nodes and ${
    visible.edges.length
  } edges${
    selectedNode ? `; selected: ${selectedNode.label}` : ''
  }. Arrow keys move the selection, Enter opens it, plus and minus zoom, 0 fits. The node list below has the same nodes.`;

  if (graph.nodes.length === 0) {
    return (
      <Box>
        {props.controls}
        <EmptyState
          title="No lineage yet"
          description="Nothing is recorded upstream or downstream of this yet: register dataset versions, runs and model versions in the KubeAI registry."
        />
      </Box>
    );
  }

  return (
    <Box>
      <Box
        display="flex"
        flexWrap="wrap"
        alignItems="center"
        mb={1}
        role="toolbar"
        aria-label="Lineage graph controls"
      >
        {props.controls}
        <FormGroup row aria-label="Node types shown">
          {present.map(type => (
            <FormControlLabel
              key={type}
              control={
                <Checkbox
                  size="small"
                  checked={!hidden.has(type)}
                  style={{ color: NODE_COLORS[type] }}
                  onChange={(_, checked) => {
                    const next = new Set(hidden);
                    if (checked) next.delete(type);
                    else next.add(type);
                    setHidden(next);
                  }}
                />
              }
              label={`${NODE_TYPE_TITLES[type]} (${counts[type]})`}
            />
          ))}
        </FormGroup>
        <Box ml="auto">
          <Tooltip title="Zoom in">
            <IconButton
              aria-label="Zoom in"
              size="small"
              onClick={() => canvas.current?.zoomBy(1.25)}
            >
              <ZoomInIcon />
            </IconButton>
          </Tooltip>
          <Tooltip title="Zoom out">
            <IconButton
              aria-label="Zoom out"
              size="small"
              onClick={() => canvas.current?.zoomBy(0.8)}
            >
              <ZoomOutIcon />
            </IconButton>
          </Tooltip>
          <Tooltip title="Fit the graph">
            <IconButton
              aria-label="Fit the graph"
              size="small"
              onClick={() => canvas.current?.fit()}
            >
              <FullscreenIcon />
            </IconButton>
          </Tooltip>
        </Box>
      </Box>
      <Paper variant="outlined" style={{ overflow: 'hidden' }}>
        <LineageCanvas
          ref={handle => {
            canvas.current = handle;
            props.canvasRef?.(handle);
          }}
          graph={visible}
          layout={layout}
          selected={selectedVisible}
          highlighted={highlighted}
          focus={selectedVisible ?? visible.roots[0]}
          height={height}
          label={canvasLabel}
          onSelect={i =>
            select(i === undefined ? undefined : visible.nodes[i].id)
          }
          onOpen={i => open(visible.nodes[i])}
          onReady={props.onReady}
        />
      </Paper>
      <Typography
        variant="caption"
        color="textSecondary"
        component="p"
        aria-live="polite"
        data-testid="lineage-status"
        data-selected={selectedId ?? ''}
      >
        {selectedNode
          ? `Selected ${NODE_TYPE_TITLE[selectedNode.type].toLowerCase()} ${
              selectedNode.label
            }; on its path: ${pathCounts}.`
          : 'Click a node (or use the list below) to highlight everything upstream and downstream of it; double-click opens it.'}
      </Typography>
      <Grid container spacing={2}>
        <Grid item xs={12} md={5}>
          {selectedNode ? (
            <Paper variant="outlined" aria-label="Selected node">
              <Box p={2}>
                <Typography variant="overline" color="textSecondary">
                  {NODE_TYPE_TITLE[selectedNode.type]}
                </Typography>
                <Typography variant="h6" component="h3">
                  {selectedNode.label}
                </Typography>
                {selectedNode.status && (
                  <Typography variant="body2">
                    Status: {selectedNode.status}
                  </Typography>
                )}
                {selectedNode.executions && (
                  <Typography variant="body2" data-testid="lineage-executions">
                    {selectedNode.executions.count.toLocaleString('en-US')} of{' '}
                    {selectedNode.executions.total.toLocaleString('en-US')}{' '}
                    executions of this periodic task, summarised:{' '}
                    {Object.entries(selectedNode.executions.phases)
                      .map(
                        ([phase, n]) =>
                          `${n.toLocaleString('en-US')} ${phase.toLowerCase()}`,
                      )
                      .join(', ')}
                    . The run page lists them all.
                  </Typography>
                )}
                <Typography variant="body2" color="textSecondary">
                  {selectedNode.id}
                </Typography>
                <Box mt={1} display="flex" style={{ gap: 8 }} flexWrap="wrap">
                  {nodeHref?.(selectedNode) && (
                    <LinkButton
                      role="link"
                      variant="outlined"
                      size="small"
                      to={nodeHref(selectedNode)!}
                    >
                      {selectedNode.executions
                        ? `List the ${selectedNode.executions.count.toLocaleString(
                            'en-US',
                          )} executions`
                        : `Open ${NODE_TYPE_TITLE[
                            selectedNode.type
                          ].toLowerCase()}`}
                    </LinkButton>
                  )}
                  {lineageHref?.(selectedNode) && (
                    <LinkButton
                      role="link"
                      size="small"
                      to={lineageHref(selectedNode)!}
                    >
                      Lineage from here
                    </LinkButton>
                  )}
                  <Button size="small" onClick={() => select(undefined)}>
                    Clear selection
                  </Button>
                </Box>
              </Box>
            </Paper>
          ) : (
            <Typography variant="body2" color="textSecondary">
              No node selected.
            </Typography>
          )}
        </Grid>
        <Grid item xs={12} md={7}>
          <TextField
            id="kubeai-lineage-find"
            label="Find a node"
            size="small"
            fullWidth
            value={search}
            onChange={e => setSearch(e.target.value)}
            inputProps={{ 'aria-controls': 'kubeai-lineage-node-list' }}
          />
          <List
            dense
            id="kubeai-lineage-node-list"
            aria-label="Lineage nodes"
            style={{ maxHeight: 260, overflow: 'auto' }}
          >
            {matches.shown.map(node => (
              <ListItem
                key={node.id}
                button
                selected={node.id === selectedId}
                aria-pressed={node.id === selectedId}
                onClick={() => {
                  select(node.id);
                  const v = visible.index.get(node.id);
                  if (v !== undefined) canvas.current?.centerOn(v);
                }}
              >
                <Box
                  component="span"
                  width={10}
                  height={10}
                  mr={1}
                  flexShrink={0}
                  style={{ background: NODE_COLORS[node.type] }}
                  aria-hidden
                />
                <ListItemText
                  primary={node.label}
                  secondary={`${NODE_TYPE_TITLE[node.type]}${
                    node.status ? ` · ${node.status}` : ''
                  }`}
                />
              </ListItem>
            ))}
          </List>
          <Typography variant="caption" color="textSecondary">
            {matches.total > LIST_LIMIT
              ? `Showing ${LIST_LIMIT} of ${matches.total} nodes; type to narrow the list.`
              : `${matches.total} node${matches.total === 1 ? '' : 's'}.`}
          </Typography>
        </Grid>
      </Grid>
    </Box>
  );
}
