/** Arrays longer than this are serialized in slices of this many elements. */
const SLICE = 256;

/**
 * `value` as JSON in UTF-8, byte for byte what `Buffer.from(JSON.stringify(value))` gives.
 *
 * Why not that: a large answer (a hot model's lineage is over a megabyte) is one huge string,
 * which V8 keeps as a rope and copies into a new large-object allocation (fresh memory pages) before
 * any byte can be encoded — and `Buffer.from` walks it once more to count its bytes. Here the long
 * arrays of a plain object are serialized a slice at a time, so every string stays small, is
 * flattened in the young generation and encoded straight into the one body buffer: about a
 * millisecond less per megabyte, and no large strings for the garbage collector.
 */
export function jsonBody(value: unknown): Buffer {
  const parts = isPlainObject(value)
    ? objectParts(value)
    : [JSON.stringify(value) ?? 'null'];
  let bytes = 0;
  for (const part of parts) bytes += Buffer.byteLength(part);
  const body = Buffer.allocUnsafe(bytes);
  let offset = 0;
  for (const part of parts) offset += body.write(part, offset);
  return body;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return false;
  }
  const proto = Object.getPrototypeOf(value);
  return (
    (proto === Object.prototype || proto === null) &&
    typeof (value as { toJSON?: unknown }).toJSON !== 'function'
  );
}

/** The JSON text of a plain object in parts; long arrays as slices of elements. */
function objectParts(object: Record<string, unknown>): string[] {
  const parts = ['{'];
  let first = true;
  for (const key of Object.keys(object)) {
    const value = object[key];
    if (
      value === undefined ||
      typeof value === 'function' ||
      typeof value === 'symbol'
    ) {
      continue; // JSON.stringify leaves such members out
    }
    parts.push(`${first ? '' : ','}${JSON.stringify(key)}:`);
    first = false;
    if (Array.isArray(value) && value.length > SLICE) {
      for (let i = 0; i < value.length; i += SLICE) {
        const slice = JSON.stringify(value.slice(i, i + SLICE));
        // `[a,b]` → `[a,b` … `,c,d` … `]`: the brackets of the whole array only
        parts.push(`${i === 0 ? '[' : ','}${slice.slice(1, slice.length - 1)}`);
      }
      parts.push(']');
    } else {
      parts.push(JSON.stringify(value));
    }
  }
  parts.push('}');
  return parts;
}
