import Chip from '@material-ui/core/Chip';
import { statusColor } from '../lineage/colors';

/** A small chip coloured by status (phase, state). */
export function StatusChip(props: { status?: string; label?: string }) {
  const { status } = props;
  if (!status) return <span>—</span>;
  const color = statusColor(status);
  return (
    <Chip
      size="small"
      variant="outlined"
      label={props.label ?? status}
      style={color ? { borderColor: color, color } : undefined}
    />
  );
}

/** Alias chips (`production`, `canary`). */
export function AliasChips(props: { aliases: string[] }) {
  if (!props.aliases.length) return <span>—</span>;
  return (
    <>
      {props.aliases.map(a => (
        <Chip
          key={a}
          size="small"
          label={a}
          color={a === 'production' ? 'primary' : 'default'}
          style={{ marginRight: 4 }}
        />
      ))}
    </>
  );
}
