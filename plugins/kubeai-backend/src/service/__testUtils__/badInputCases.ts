/*
 * The malformed requests of the bad-input sweep, generated from the schemas of
 * badInputSamples.ts: every field of a sample body broken one at a time, whole bodies that are no
 * request, and bad path segments.
 */
import {
  Schema,
  Method,
  deref,
  typesOf,
  Operation,
  urlOf,
} from './badInputSamples';

const HUGE = 'a'.repeat(70_000);
/** Must be refused wherever a name, reference, quantity or other token is expected. */
const INJECTIONS = [
  '$(rm -rf /)',
  '`rm -rf /`',
  'x; drop table kubeai_runs',
  "' OR 1=1 --",
  '../../etc/passwd',
  'name\nInjected: header',
  '{{workflow.parameters.x}}',
  'evil\u202egpj.exe',
  'nаme', // Cyrillic а
  '名前',
  'a\u0000b',
];
/** Must be refused where a path inside a volume or a container is expected. */
const TRAVERSALS = [
  '../../etc/passwd',
  'a/../../etc',
  '/data/../../etc',
  '..',
  'a\u0000b',
  'a\nb',
  'evil\u202egpj.exe',
];
/** Path segments (already encoded). */
const BAD_SEGMENTS = [
  // each is used where the parameter's schema refuses it
  '..%2F..',
  '..%2F..%2F..%2Fetc%2Fpasswd',
  '%2E%2E',
  'a'.repeat(300),
  '%00',
  'a%00b',
  '%E2%80%AEevil',
  encodeURIComponent('$(rm -rf /)'),
  encodeURIComponent("' OR 1=1 --"),
  encodeURIComponent('x; drop table kubeai_runs'),
  encodeURIComponent('{{workflow.parameters.x}}'),
  'UPPER',
];
const BAD_NUMBERS = ['0', '-1', '1.5', 'abc', '99999999999999999999'];

/** Keys whose strings become names, references, images or other tokens (never free text). */
const NAME_LIKE =
  /(name|Name|Ref|ref|Key|Class|Policy)$|^(cluster|namespace|image|kubectl|python|version|alias|aliases|uid|runtime|inferenceService|step|key|kind|type|owner|system|lifecycle|toVersion|modelVersion|model|schedule|timeZone|parameter|queue|bucket|endpoint|region|server|format|framework|digest|uri|url|storageUri|tags|dependsOn|accessModes|medium|phase|state|protocolVersion|nprocPerNode|restartPolicy|cpu|memory|cpuLimit|memoryLimit|size|quota|shmSize|startedAt|finishedAt|toVersion)$/;
/** Keys whose strings are paths inside a volume or a container. */
const PATH_LIKE = /^(path|subPath|mountPath|workingDir)$/;

export interface Case {
  label: string;
  method: Method;
  url: string;
  body?: unknown;
  /** Raw body and content type, instead of JSON. */
  raw?: { type: string; data: string };
  headers?: Record<string, string>;
  /** Substrings the error message must contain (the field / parameter). */
  names: string[];
}

const clone = <T>(value: T): T => structuredClone(value);

function setAt(body: any, path: (string | number)[], value: unknown) {
  const copy = clone(body);
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key];
  node[path[path.length - 1]] = value;
  return copy;
}

function deleteAt(body: any, path: (string | number)[]) {
  const copy = clone(body);
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key];
  delete node[path[path.length - 1]];
  return copy;
}

/** JSON text nested `depth` deep (built as text: JSON.stringify would overflow the stack). */
export const deepJson = (depth: number, array = false) =>
  array
    ? `${'['.repeat(depth)}1${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
/** Stands for {@link deepJson} in a body until it is sent. */
export const DEEP = '__kubeai_sweep_deep_value__';

/** A value of another JSON type than the schema allows. */
function wrongType(schema: Schema): unknown {
  const types = typesOf(schema);
  const candidates: [string[], unknown][] = [
    [['string'], 12345],
    [['integer', 'number'], 'twelve'],
    [['boolean'], 'yes'],
    [['object'], 'not-an-object'],
    [['array'], { not: 'an array' }],
  ];
  const accepts = (value: unknown) => {
    if (value === null) return types.includes('null');
    if (Array.isArray(value)) return types.includes('array');
    if (typeof value === 'number')
      return types.includes('number') || types.includes('integer');
    return types.includes(typeof value);
  };
  for (const [, value] of candidates) {
    if (!accepts(value)) return value;
  }
  for (const value of [true, [], {}, 'x', 1.5]) {
    if (!accepts(value)) return value;
  }
  return undefined;
}

/** A sample item of an array field (the base's first item, else a value of the item type). */
function sampleItem(schema: Schema, base: unknown[] | undefined): unknown {
  if (base && base.length > 0) return base[0];
  const items = deref(schema.items);
  const types = typesOf(items);
  if (items.enum) return items.enum[0];
  if (types.includes('object')) return {};
  if (types.includes('integer') || types.includes('number')) return 1;
  return 'a';
}

/** Every malformed variant of one field of `body` at `path`. */
function fieldCases(
  op: Operation,
  url: string,
  body: any,
  path: (string | number)[],
  rawSchema: Schema,
  required: boolean,
  parentValue: any,
): Case[] {
  const schema = deref(rawSchema);
  const key = String(path[path.length - 1]);
  const field = path.join('/');
  const stringKeys = path.filter(p => typeof p === 'string') as string[];
  const names = stringKeys.length > 1 ? [stringKeys[0], key] : [key];
  const types = typesOf(schema);
  const current = parentValue?.[path[path.length - 1]];
  const out: Case[] = [];
  const add = (what: string, value: unknown) =>
    out.push({
      label: `${op.id} ${field}: ${what}`,
      method: op.method,
      url,
      body: setAt(body, path, value),
      names,
    });

  if (required) {
    out.push({
      label: `${op.id} ${field}: deleted`,
      method: op.method,
      url,
      body: deleteAt(body, path),
      names,
    });
  }
  add('null', null);
  const wrong = wrongType(schema);
  if (wrong !== undefined) add(`wrong type ${JSON.stringify(wrong)}`, wrong);

  if (types.includes('string')) {
    add('70,000 characters', HUGE);
    const pipelineText =
      op.id === 'createPipeline' && path[0] === 'steps' && !schema.enum;
    if (PATH_LIKE.test(key)) {
      for (const traversal of TRAVERSALS) {
        add(`traversal ${JSON.stringify(traversal)}`, traversal);
      }
    } else if (NAME_LIKE.test(key) || schema.pattern || schema.enum) {
      for (const injection of INJECTIONS) {
        add(`injection ${JSON.stringify(injection)}`, injection);
      }
    } else if (pipelineText) {
      add('undeclared Argo placeholder', '{{workflow.parameters.x}}');
      add('unknown Argo placeholder', '{{inputs.parameters.secret}}');
    }
  }
  if (types.includes('integer') || types.includes('number')) {
    const minimum = schema.minimum ?? schema.exclusiveMinimum;
    if (minimum !== undefined && minimum >= 0) add('negative', -1);
    if (types.includes('integer')) add('fractional', 1.5);
    if (schema.maximum !== undefined) add('above the maximum', 1e20);
  }
  if (types.includes('array')) {
    const item = sampleItem(schema, Array.isArray(current) ? current : []);
    add(
      '5,000 items',
      Array.from({ length: 5000 }, () => clone(item)),
    );
    const items = deref(schema.items);
    const itemTypes = typesOf(items);
    if (itemTypes.includes('string')) {
      add('an item of 70,000 characters', [HUGE]);
      add('a null item', [null]);
      if (NAME_LIKE.test(key) || items.pattern || items.enum) {
        for (const injection of INJECTIONS) {
          add(`an item ${JSON.stringify(injection)}`, [injection]);
        }
      } else if (op.id === 'createPipeline' && path[0] === 'steps') {
        add('an undeclared Argo placeholder item', [
          '{{workflow.parameters.x}}',
        ]);
      }
    } else if (itemTypes.includes('object')) {
      add('a null item', [null]);
      add('a string item', ['item']);
    }
  }
  if (types.includes('object') && !schema.properties) {
    // maps and free-form objects
    add(
      '5,000 properties',
      Object.fromEntries(
        Array.from({ length: 5000 }, (_, i) => [`k${i}`, 'v']),
      ),
    );
    add('a key "$(rm -rf /)"', { '$(rm -rf /)': 'v' });
    add('a key of 70,000 characters', { [HUGE]: 'v' });
    add('a value nested 5,000 deep', { deep: DEEP });
    add('a value of 70,000 characters', { big: HUGE });
  }
  return out;
}

/** Walks the body schema along the sample body: every field, nested objects and array items. */
export function bodyCases(
  op: Operation,
  url: string,
  body: any,
  rawSchema: Schema,
  path: (string | number)[] = [],
  value: any = body,
): Case[] {
  const schema = deref(rawSchema);
  if (!schema.properties) return [];
  const out: Case[] = [];
  for (const [key, propSchema] of Object.entries<Schema>(schema.properties)) {
    const required = (schema.required ?? []).includes(key);
    out.push(
      ...fieldCases(op, url, body, [...path, key], propSchema, required, value),
    );
    const inner = value?.[key];
    const prop = deref(propSchema);
    if (inner && typeof inner === 'object' && !Array.isArray(inner)) {
      out.push(...bodyCases(op, url, body, prop, [...path, key], inner));
    } else if (
      Array.isArray(inner) &&
      inner[0] &&
      typeof inner[0] === 'object'
    ) {
      out.push(
        ...bodyCases(
          op,
          url,
          body,
          deref(prop.items),
          [...path, key, 0],
          inner[0],
        ),
      );
    }
  }
  return out;
}

/** Whole bodies that are no valid request at all. */
export function wholeBodyCases(op: Operation, url: string, body: any): Case[] {
  const json = 'application/json';
  const clear = ['request/body'];
  return [
    {
      label: `${op.id}: not JSON`,
      method: op.method,
      url,
      raw: { type: json, data: '{"name": "x",' },
      names: clear,
    },
    {
      label: `${op.id}: text/plain`,
      method: op.method,
      url,
      raw: { type: 'text/plain', data: 'rm -rf /' },
      names: clear,
    },
    {
      label: `${op.id}: a bare string`,
      method: op.method,
      url,
      raw: { type: json, data: '"hello"' },
      names: clear,
    },
    {
      label: `${op.id}: null`,
      method: op.method,
      url,
      raw: { type: json, data: 'null' },
      names: clear,
    },
    {
      label: `${op.id}: an array`,
      method: op.method,
      url,
      raw: { type: json, data: JSON.stringify([body]) },
      names: clear,
    },
    {
      label: `${op.id}: 5 MB`,
      method: op.method,
      url,
      raw: {
        type: json,
        data: JSON.stringify({ ...body, padding: 'x'.repeat(5 * 1024 * 1024) }),
      },
      names: ['request/body is larger than the limit'],
    },
    {
      label: `${op.id}: an object nested 5,000 deep`,
      method: op.method,
      url,
      raw: { type: json, data: deepJson(5000) },
      names: clear,
    },
    {
      label: `${op.id}: an array nested 5,000 deep`,
      method: op.method,
      url,
      raw: { type: json, data: deepJson(5000, true) },
      names: clear,
    },
    {
      label: `${op.id}: an unknown field`,
      method: op.method,
      url,
      body: { ...body, 'evil$(rm -rf /)': true },
      names: ['evil$(rm -rf /)'],
    },
  ];
}

/** Whether a path parameter's schema accepts a (encoded) segment. */
function acceptsSegment(schema: Schema, segment: string): boolean {
  const value = decodeURIComponent(segment);
  if (typesOf(schema).includes('integer')) {
    const n = Number(value);
    return (
      /^-?[0-9]+$/.test(value) &&
      n >= (schema.minimum ?? -Infinity) &&
      n <= (schema.maximum ?? Infinity)
    );
  }
  return (
    value.length >= (schema.minLength ?? 0) &&
    value.length <= (schema.maxLength ?? Infinity) &&
    (!schema.pattern || new RegExp(schema.pattern, 'u').test(value))
  );
}

/** Every path parameter replaced by bad segments. */
export function pathCases(
  op: Operation,
  params: Record<string, string>,
  body: any,
) {
  const out: Case[] = [];
  for (const { name, schema } of op.pathParams) {
    const numeric = typesOf(schema).includes('integer');
    for (const segment of [...BAD_SEGMENTS, ...(numeric ? BAD_NUMBERS : [])]) {
      if (acceptsSegment(schema, segment)) continue;
      out.push({
        label: `${op.id} path ${name}=${segment.slice(0, 40)}`,
        method: op.method,
        url: urlOf(op, { ...params, [name]: segment }),
        body,
        names: [name],
      });
    }
  }
  return out;
}

// ------------------------------------------------------------------ the backend
