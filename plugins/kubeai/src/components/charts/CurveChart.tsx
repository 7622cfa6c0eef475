import { useMemo } from 'react';
import { useTheme } from '@material-ui/core/styles';
import Box from '@material-ui/core/Box';
import Typography from '@material-ui/core/Typography';

/** One line of a {@link CurveChart}. */
export interface CurveSeries {
  name: string;
  color: string;
  /** Points in data coordinates (both axes 0..1). */
  points: Array<{ x: number; y: number }>;
}

/** Props of {@link CurveChart}. */
export interface CurveChartProps {
  title: string;
  xLabel: string;
  yLabel: string;
  series: CurveSeries[];
  /** Draw the y = x line (ROC). */
  diagonal?: boolean;
  /** Show the area under each curve in the legend. */
  showArea?: boolean;
  width?: number;
  height?: number;
}

const MARGIN = { top: 12, right: 16, bottom: 44, left: 52 };
const TICKS = [0, 0.2, 0.4, 0.6, 0.8, 1];

/** Area under a curve by the trapezoidal rule (points sorted by x). */
export function areaUnderCurve(points: Array<{ x: number; y: number }>) {
  const sorted = [...points].sort((a, b) => a.x - b.x);
  let area = 0;
  for (let i = 1; i < sorted.length; i++) {
    area +=
      ((sorted[i].x - sorted[i - 1].x) * (sorted[i].y + sorted[i - 1].y)) / 2;
  }
  return area;
}

/**
 * A small SVG line chart for curves on [0, 1] × [0, 1] (ROC, precision-recall): axes with ticks,
 * axis titles, a legend, and an accessible title and description.
 */
export function CurveChart(props: CurveChartProps) {
  const { title, xLabel, yLabel, series, width = 420, height = 320 } = props;
  const theme = useTheme();
  const id = useMemo(
    () => `kubeai-chart-${title.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`,
    [title],
  );
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const sx = (x: number) => MARGIN.left + clamp01(x) * plotW;
  const sy = (y: number) => MARGIN.top + (1 - clamp01(y)) * plotH;
  const drawn = series.filter(s => s.points.length > 0);
  const description = drawn.length
    ? drawn
        .map(
          s =>
            `${s.name}: ${s.points.length} points${
              props.showArea
                ? `, area ${areaUnderCurve(s.points).toFixed(3)}`
                : ''
            }`,
        )
        .join('; ')
    : 'No data';

  return (
    <Box component="figure" m={0}>
      <Typography
        variant="subtitle2"
        component="figcaption"
        id={`${id}-caption`}
      >
        {title}
      </Typography>
      {drawn.length === 0 ? (
        <Typography variant="body2" color="textSecondary">
          No {title} data recorded for these versions.
        </Typography>
      ) : (
        <svg
          role="img"
          aria-labelledby={`${id}-title ${id}-desc`}
          viewBox={`0 0 ${width} ${height}`}
          width="100%"
          style={{ maxWidth: width }}
        >
          <title id={`${id}-title`}>{title}</title>
          <desc id={`${id}-desc`}>{description}</desc>
          <g stroke={theme.palette.divider} strokeWidth={1}>
            {TICKS.map(t => (
              <line
                key={`gx${t}`}
                x1={sx(t)}
                x2={sx(t)}
                y1={sy(0)}
                y2={sy(1)}
              />
            ))}
            {TICKS.map(t => (
              <line
                key={`gy${t}`}
                x1={sx(0)}
                x2={sx(1)}
                y1={sy(t)}
                y2={sy(t)}
              />
            ))}
          </g>
          <g
            fill={theme.palette.text.secondary}
            fontSize={11}
            fontFamily="sans-serif"
          >
            {TICKS.map(t => (
              <text key={`tx${t}`} x={sx(t)} y={sy(0) + 16} textAnchor="middle">
                {t}
              </text>
            ))}
            {TICKS.map(t => (
              <text key={`ty${t}`} x={sx(0) - 6} y={sy(t) + 4} textAnchor="end">
                {t}
              </text>
            ))}
            <text x={sx(0.5)} y={height - 6} textAnchor="middle">
              {xLabel}
            </text>
            <text
              transform={`translate(14 ${sy(0.5)}) rotate(-90)`}
              textAnchor="middle"
            >
              {yLabel}
            </text>
          </g>
          {props.diagonal && (
            <line
              x1={sx(0)}
              y1={sy(0)}
              x2={sx(1)}
              y2={sy(1)}
              stroke={theme.palette.text.disabled}
              strokeDasharray="4 4"
            />
          )}
          {drawn.map((s, i) => (
            <polyline
              key={`${s.name}-${i}`}
              fill="none"
              stroke={s.color}
              strokeWidth={2}
              points={[...s.points]
                .sort((a, b) => a.x - b.x)
                .map(p => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`)
                .join(' ')}
            >
              <title>{s.name}</title>
            </polyline>
          ))}
        </svg>
      )}
      {drawn.length > 0 && (
        <Box
          component="ul"
          display="flex"
          flexWrap="wrap"
          p={0}
          m={0}
          style={{ listStyle: 'none', gap: 16 }}
          aria-label={`${title} legend`}
        >
          {drawn.map((s, i) => (
            <Box
              component="li"
              key={`${s.name}-${i}`}
              display="flex"
              alignItems="center"
            >
              <Box
                component="span"
                width={14}
                height={3}
                mr={1}
                style={{ background: s.color }}
                aria-hidden
              />
              <Typography variant="caption">
                {s.name}
                {props.showArea
                  ? ` (area ${areaUnderCurve(s.points).toFixed(3)})`
                  : ''}
              </Typography>
            </Box>
          ))}
        </Box>
      )}
    </Box>
  );
}

function clamp01(v: number) {
  return Math.min(1, Math.max(0, v));
}
