/*
 * The inputs of the kubeai:* actions against the request bodies of the OpenAPI spec: every field an
 * action shares with its request body has the spec's shape (types, enums, object properties and
 * required-ness; not the content checks, which are the API's), so a change of one without the
 * other fails here.
 */
import { z } from 'zod/v3';
import { kubeaiActions } from './actions';
import { kubeaiSchemas, specSchema } from './specZod';

const schemas = kubeaiSchemas as unknown as Record<string, any>;

/** The request body of each action, and the fields only the action has. */
const bodies: Record<string, { body: string; actionOnly: string[] }> = {
  'kubeai:notebook:create': {
    body: 'CreateNotebookRequest',
    actionOnly: ['workspaceSize', 'workspaceClaim'],
  },
  'kubeai:job:create': { body: 'CreateJobRequest', actionOnly: ['options'] },
  'kubeai:dataset:create': { body: 'CreateDatasetRequest', actionOnly: [] },
  'kubeai:model:register': {
    body: 'CreateModelVersionRequest',
    actionOnly: ['model', 'dryRun'],
  },
  'kubeai:inference-service:deploy': {
    body: 'DeployInferenceServiceRequest',
    actionOnly: [],
  },
  'kubeai:inference-service:promote': {
    body: 'PromoteInferenceServiceRequest',
    actionOnly: ['cluster', 'namespace', 'name'],
  },
  'kubeai:inference-service:rollback': {
    body: 'RollbackInferenceServiceRequest',
    actionOnly: ['cluster', 'namespace', 'name'],
  },
  'kubeai:pipeline:create': {
    body: 'CreatePipelineRequest',
    actionOnly: [],
  },
  'kubeai:pools:apply': { body: 'ApplyPoolsRequest', actionOnly: [] },
};

type Shape =
  | string
  | { enum: unknown[] }
  | { array: Shape }
  | { record: Shape }
  | { object: Record<string, { shape: Shape; required: boolean }> }
  | { anyOf: Shape[] };

const sortShapes = (shapes: Shape[]) =>
  [...shapes].sort((a, b) =>
    JSON.stringify(a).localeCompare(JSON.stringify(b)),
  );

/** The shape of a spec schema. A `DatasetMount` may also be a Dataset entity ref in an action. */
function specShape(schema: any, inAction = true): Shape {
  if (schema.$ref) {
    const name = schema.$ref.replace('#/components/schemas/', '');
    const target = specShape(schemas[name], inAction);
    return inAction && name === 'DatasetMount'
      ? { anyOf: sortShapes([specShape(schemas.DatasetRef), target]) }
      : target;
  }
  if (schema.enum) return { enum: [...schema.enum] };
  const types: string[] = (
    Array.isArray(schema.type) ? schema.type : [schema.type]
  ).filter((t: string | undefined) => t && t !== 'null');
  const shapes = types.map((type): Shape => {
    if (type === 'array') return { array: specShape(schema.items, inAction) };
    if (type !== 'object') return type;
    const properties = Object.entries<any>(schema.properties ?? {});
    if (properties.length === 0) {
      const extra = schema.additionalProperties;
      return {
        record:
          extra && typeof extra === 'object'
            ? specShape(extra, inAction)
            : 'unknown',
      };
    }
    const required = new Set(schema.required ?? []);
    return {
      object: Object.fromEntries(
        properties.map(([key, property]) => [
          key,
          { shape: specShape(property, inAction), required: required.has(key) },
        ]),
      ),
    };
  });
  if (shapes.length === 0) return 'unknown';
  return shapes.length === 1 ? shapes[0] : { anyOf: sortShapes(shapes) };
}

/** The shape of a zod schema, and whether it is required. */
function zodShape(type: z.ZodTypeAny): { shape: Shape; required: boolean } {
  let required = true;
  let t: any = type;
  for (;;) {
    if (t instanceof z.ZodOptional) required = false;
    else if (!(t instanceof z.ZodNullable)) break;
    t = t.unwrap();
  }
  return { shape: shapeOf(t), required };
}

function shapeOf(t: any): Shape {
  if (t instanceof z.ZodOptional || t instanceof z.ZodNullable) {
    return shapeOf(t.unwrap());
  }
  if (t instanceof z.ZodString) return 'string';
  if (t instanceof z.ZodBoolean) return 'boolean';
  if (t instanceof z.ZodNumber) return t.isInt ? 'integer' : 'number';
  if (t instanceof z.ZodUnknown) return 'unknown';
  if (t instanceof z.ZodEnum) return { enum: [...t.options] };
  if (t instanceof z.ZodArray) return { array: shapeOf(t.element) };
  if (t instanceof z.ZodRecord) return { record: shapeOf(t.valueSchema) };
  if (t instanceof z.ZodUnion) {
    return { anyOf: sortShapes(t.options.map(shapeOf)) };
  }
  if (t instanceof z.ZodObject) {
    return {
      object: Object.fromEntries(
        Object.entries<any>(t.shape).map(([key, value]) => [
          key,
          zodShape(value),
        ]),
      ),
    };
  }
  throw new Error(`unexpected zod type ${t?._def?.typeName}`);
}

describe('the kubeai:* action inputs', () => {
  it('cover every action', () => {
    expect(kubeaiActions.map(a => a.id).sort()).toEqual(
      Object.keys(bodies).sort(),
    );
  });

  it.each(Object.entries(bodies))(
    '%s shares the fields of its request body with the spec',
    (id, { body, actionOnly }) => {
      const action = kubeaiActions.find(a => a.id === id)!;
      const shape = action.input(z).shape as Record<string, z.ZodTypeAny>;
      const bodySchema = schemas[body];
      // promote / rollback: cluster, namespace and name are the path parameters, as in a deploy
      const pathSchema = schemas.DeployInferenceServiceRequest;
      const shared = Object.keys(shape).filter(k => !actionOnly.includes(k));
      // the fields only the action has are not fields of the body
      expect(
        actionOnly.filter(key => bodySchema.properties[key] !== undefined),
      ).toEqual([]);
      // every other field is one of the body, of the spec's shape (dryRun is optional everywhere)
      const actual = Object.fromEntries(
        Object.entries(shape)
          .filter(
            ([key]) => shared.includes(key) || key in pathSchema.properties,
          )
          .map(([key, type]) => {
            const { shape: s, required } = zodShape(type);
            return [key, shared.includes(key) ? { shape: s, required } : s];
          }),
      );
      const expected = Object.fromEntries(
        Object.keys(actual).map(key =>
          shared.includes(key)
            ? [
                key,
                bodySchema.properties[key]
                  ? {
                      shape: specShape(bodySchema.properties[key]),
                      required: (bodySchema.required ?? []).includes(key),
                    }
                  : `not a field of ${body}`,
              ]
            : [key, specShape(pathSchema.properties[key])],
        ),
      );
      expect(actual).toEqual(expected);
    },
  );

  it('are described, with the examples of the spec', () => {
    for (const action of kubeaiActions) {
      for (const [key, type] of Object.entries<z.ZodTypeAny>(
        action.input(z).shape,
      )) {
        expect([action.id, key, type.description]).toEqual([
          action.id,
          key,
          expect.any(String),
        ]);
      }
    }
    const notebook = kubeaiActions.find(
      a => a.id === 'kubeai:notebook:create',
    )!;
    expect(notebook.input(z).shape.modelRef.description).toContain(
      JSON.stringify(schemas.ModelRef.examples[0]),
    );
  });

  it('leave the content checks to the API (no pattern or range in the schemas)', () => {
    const notebook = kubeaiActions.find(
      a => a.id === 'kubeai:notebook:create',
    )!;
    const parsed = notebook.input(z).safeParse({
      cluster: 'local',
      namespace: 'team-a',
      name: 'Bad_Name',
      image: 'jupyter/base-notebook:latest',
      resources: { gpu: 100000 },
      datasets: ['dataset:default/shoe-images', { datasetRef: 'x' }],
      catalogEntity: null,
    });
    expect(parsed.success).toBe(true);
    expect(
      specSchema(z, 'KubernetesObjectName').safeParse('Bad_Name').success,
    ).toBe(true);
  });

  it('accept null for unset object and array template parameters', () => {
    const job = kubeaiActions.find(a => a.id === 'kubeai:job:create')!;
    expect(
      job.input(z).safeParse({
        cluster: 'local',
        namespace: 'team-a',
        name: 'train',
        kind: 'PyTorchJob',
        replicas: null,
        queue: null,
        datasets: null,
        resources: null,
      }).success,
    ).toBe(true);
  });
});
