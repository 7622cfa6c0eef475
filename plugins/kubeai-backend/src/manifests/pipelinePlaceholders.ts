/**
 * Argo placeholders in pipeline step fields (see ./pipeline.ts): the allow-list, finding them,
 * and swapping them for tokens so a templated field can be validated — and built — like a literal.
 */

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
export const ALLOWED_PLACEHOLDER =
  /^(workflow\.(name|uid|namespace)|workflow\.creationTimestamp\.[A-Za-z]|workflow\.parameters\.[A-Za-z0-9_-]+|tasks\.[a-z0-9-]+\.outputs\.parameters\.[A-Za-z0-9_-]+)$/;

/** Placeholder expressions (without braces) in a string. */
export function placeholdersOf(value: string): string[] {
  return [...value.matchAll(PLACEHOLDER)].map(m => m[1]);
}

/** Every string inside a JSON value, with its path (so issues name the field). */
export function stringsOf(
  value: unknown,
  path: (string | number)[] = [],
  out: { path: (string | number)[]; text: string }[] = [],
): { path: (string | number)[]; text: string }[] {
  if (typeof value === 'string') {
    out.push({ path, text: value });
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => stringsOf(v, [...path, i], out));
  } else if (value && typeof value === 'object') {
    Object.entries(value).forEach(([k, v]) => stringsOf(v, [...path, k], out));
  }
  return out;
}

/**
 * Replaces every placeholder in the strings of `value` with a token that is valid wherever a
 * label value or a DNS label is (`kubeaitmpl<n>x`), returning the tokenized copy and a function
 * restoring the placeholders in text.
 */
export function tokenize<T>(value: T): {
  value: T;
  restore: (text: string) => string;
} {
  const tokens = new Map<string, string>();
  const replace = (s: string) =>
    s.replace(PLACEHOLDER, match => {
      const token = `kubeaitmpl${tokens.size}x`;
      tokens.set(token, match);
      return token;
    });
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      return replace(v);
    }
    if (Array.isArray(v)) {
      return v.map(walk);
    }
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.entries(v).map(([k, x]) => [k, walk(x)]),
      );
    }
    return v;
  };
  const tokenized = walk(value) as T;
  return {
    value: tokenized,
    restore: text =>
      text.replace(/kubeaitmpl[0-9]+x/g, token => tokens.get(token) ?? token),
  };
}
