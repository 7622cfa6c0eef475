import {
  DEFAULT_NAMESPACE,
  Entity,
  entitySchemaValidator,
  parseEntityRef,
} from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import { KubeaiKind } from './kinds';
import { KUBEAI_RELATION_FIELDS } from './relations';

/** One reason why an entity is invalid. */
export interface KubeaiValidationIssue {
  /** JSON pointer of the offending field, e.g. `/spec/source/table`; `/` for the entity itself. */
  path: string;
  /** Why the field is invalid, e.g. `is required (source type "table")`. */
  message: string;
}

/**
 * Thrown by the KubeAI validators: names the entity, and every invalid field with its reason.
 *
 * @example
 * `Invalid Dataset entity dataset:default/clicks: /spec/source/table is required (source type "table")`
 */
export class KubeaiEntityValidationError extends InputError {
  readonly entityRef: string;
  readonly issues: KubeaiValidationIssue[];

  constructor(
    kind: string,
    entityRef: string,
    issues: KubeaiValidationIssue[],
  ) {
    super(
      `Invalid ${kind} entity ${entityRef}: ${issues
        .map(formatIssue)
        .join('; ')}`,
    );
    this.entityRef = entityRef;
    this.issues = issues;
  }
}

/** `/spec/owner is required`. */
export function formatIssue(issue: KubeaiValidationIssue): string {
  return `${issue.path} ${issue.message}`;
}

const ajv = new Ajv({
  allErrors: true,
  allowUnionTypes: true,
  verbose: true, // errors carry `data` and `parentSchema` (for errorHint / errorContext)
  strict: true,
});
ajv.addKeyword('errorHint');
ajv.addKeyword('errorContext');

const compiled = new Map<object, ValidateFunction>();
function compile(schema: object): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function article(type: string): string {
  return /^(API|[aeio])/i.test(type) ? `an ${type}` : `a ${type}`;
}

function formatAjvError(error: ErrorObject): KubeaiValidationIssue | undefined {
  const parent = (error.parentSchema ?? {}) as {
    errorHint?: string;
    errorContext?: string;
  };
  const path = error.instancePath || '/';
  const got = `(got ${describe(error.data)})`;
  const params = error.params as Record<string, any>;
  const hinted = (fallback: string) =>
    parent.errorHint ? `${parent.errorHint} ${got}` : `${fallback} ${got}`;

  switch (error.keyword) {
    case 'if':
      // The `then` branch reports the actual problem.
      return undefined;
    case 'required':
      return {
        path: `${error.instancePath}/${params.missingProperty}`,
        message: `is required${
          parent.errorContext ? ` (${parent.errorContext})` : ''
        }`,
      };
    case 'additionalProperties':
      return {
        path: `${error.instancePath}/${params.additionalProperty}`,
        message: `is not allowed${
          parent.errorContext ? ` for ${parent.errorContext}` : ''
        }`,
      };
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(v =>
        JSON.stringify(v),
      );
      return {
        path,
        message:
          allowed.length === 1
            ? `must be ${allowed[0]} ${got}`
            : `must be one of ${allowed.join(', ')} ${got}`,
      };
    }
    case 'const':
      return {
        path,
        message: `must be ${JSON.stringify(params.allowedValue)} ${got}`,
      };
    case 'type': {
      const types = String(params.type).split(',');
      const reason = `must be ${types.map(article).join(' or ')}`;
      return {
        path,
        // A hint explains a union type (`1` or `"champion"`); a plain type error is clearer.
        message: types.length > 1 ? hinted(reason) : `${reason} ${got}`,
      };
    }
    case 'pattern':
      return { path, message: hinted(`must match ${params.pattern}`) };
    case 'minLength':
      return {
        path,
        message:
          params.limit === 1
            ? `must not be empty`
            : hinted(`must be at least ${params.limit} characters`),
      };
    case 'maxLength':
      return { path, message: `must be at most ${params.limit} characters` };
    case 'minimum':
      return { path, message: hinted(`must be >= ${params.limit}`) };
    case 'uniqueItems':
      return {
        path,
        message: `must not list the same item twice (items ${params.j} and ${params.i})`,
      };
    default:
      return { path, message: error.message ?? 'is invalid' };
  }
}

/** Validates against a JSON schema and returns the issues, with precise paths and reasons. */
export function schemaIssues(
  schema: object,
  data: unknown,
): KubeaiValidationIssue[] {
  const validate = compile(schema);
  if (validate(data)) {
    return [];
  }
  const issues = new Array<KubeaiValidationIssue>();
  const seen = new Set<string>();
  for (const error of validate.errors ?? []) {
    const issue = formatAjvError(error);
    const key = issue && formatIssue(issue);
    if (issue && key && !seen.has(key)) {
      seen.add(key);
      issues.push(issue);
    }
  }
  return issues;
}

let baseEntityValidator: ((data: unknown) => Entity) | undefined;

/**
 * The base Entity schema of @backstage/catalog-model (metadata, labels, links, …), which
 * every kind `allOf`s. Only the first problem is reported, as catalog-model does.
 */
function baseEntityIssues(data: unknown): KubeaiValidationIssue[] {
  baseEntityValidator ??= entitySchemaValidator();
  try {
    baseEntityValidator(data);
    return [];
  } catch (e) {
    // catalog-model's message: `<instancePath> <reason> - <params>`
    const text = String((e as Error).message);
    const [path, ...rest] = text.split(' ');
    return [
      {
        path: path === '<root>' ? '/' : path,
        message: rest.join(' '),
      },
    ];
  }
}

function getAt(data: unknown, dottedPath: string): unknown {
  let current: unknown = data;
  for (const key of dottedPath.split('.')) {
    if (!current || typeof current !== 'object') {
      return undefined;
    }
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/**
 * Checks the entity references of a KubeAI entity: they must parse, and an explicit kind must
 * be one the field allows (`spec.model: component:foo` is an error, `spec.owner: system:x` too).
 */
export function entityRefIssues(
  kind: KubeaiKind,
  entity: unknown,
): KubeaiValidationIssue[] {
  const issues = new Array<KubeaiValidationIssue>();
  const namespace =
    (getAt(entity, 'metadata.namespace') as string | undefined) ??
    DEFAULT_NAMESPACE;
  for (const field of KUBEAI_RELATION_FIELDS[kind]) {
    const pointer = `/${field.path.split('.').join('/')}`;
    const value = getAt(entity, field.path);
    let refs: Array<[string, unknown]> = [];
    if (typeof value === 'string') {
      refs = [[pointer, value]];
    } else if (Array.isArray(value)) {
      refs = value.map((v, i) => [`${pointer}/${i}`, v]);
    }
    for (const [path, ref] of refs) {
      if (typeof ref !== 'string' || !ref) {
        continue; // reported by the schema
      }
      let targetKind: string;
      try {
        targetKind = parseEntityRef(ref, {
          defaultKind: field.defaultKind,
          defaultNamespace: namespace,
        }).kind;
      } catch (e) {
        issues.push({
          path,
          message: field.defaultKind
            ? `is not a valid entity reference (expected [<kind>:][<namespace>/]<name>) (got ${describe(
                ref,
              )})`
            : `must be an entity reference with a kind, e.g. "resource:default/feature-store" (got ${describe(
                ref,
              )})`,
        });
        continue;
      }
      const allowed = field.allowedKinds;
      if (
        allowed &&
        !allowed.some(k => k.toLowerCase() === targetKind.toLowerCase())
      ) {
        issues.push({
          path,
          message: `must reference ${allowed
            .map(article)
            .join(' or ')}, not ${article(targetKind)} (got ${describe(ref)})`,
        });
      }
    }
  }
  return issues;
}

/**
 * Every issue of a candidate entity of the given kind: the base Entity schema, the kind's schema,
 * and the kinds of its entity references. Empty when valid.
 */
export function kubeaiEntityIssues(
  kind: KubeaiKind,
  schema: object,
  data: unknown,
): KubeaiValidationIssue[] {
  const own = schemaIssues(schema, data);
  const base = baseEntityIssues(data).filter(
    b => !own.some(o => o.path === b.path || b.path.startsWith(`${o.path}/`)),
  );
  return [...own, ...base, ...entityRefIssues(kind, data)];
}

/** `model:default/foo`, or `model:default/<unnamed>` when the name is missing. */
export function describeEntityRef(kind: string, data: unknown): string {
  const name = getAt(data, 'metadata.name');
  const namespace = getAt(data, 'metadata.namespace');
  return `${kind.toLowerCase()}:${
    typeof namespace === 'string' && namespace
      ? namespace.toLowerCase()
      : DEFAULT_NAMESPACE
  }/${typeof name === 'string' && name ? name.toLowerCase() : '<unnamed>'}`;
}

/**
 * A validator in the style of catalog-model's `entityKindSchemaValidator`: returns `false` when
 * the data is not of this kind (so other kinds are left to other processors), the entity when
 * it is valid, and throws a {@link KubeaiEntityValidationError} when it is of this kind but
 * invalid.
 *
 * Unlike catalog-model, an entity of this kind with another apiVersion is invalid rather than
 * foreign, so that `apiVersion: backstage.io/v1alpha1` on a Model gets a precise error.
 */
export function kubeaiEntityKindValidator<T extends Entity>(
  kind: KubeaiKind,
  schema: object,
): (data: unknown) => T | false {
  return (data: unknown) => {
    if (
      !data ||
      typeof data !== 'object' ||
      (data as { kind?: unknown }).kind !== kind
    ) {
      return false;
    }
    const issues = kubeaiEntityIssues(kind, schema, data);
    if (issues.length) {
      throw new KubeaiEntityValidationError(
        kind,
        describeEntityRef(kind, data),
        issues,
      );
    }
    return data as T;
  };
}
