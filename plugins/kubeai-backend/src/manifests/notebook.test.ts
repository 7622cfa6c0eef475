import { buildNotebook, notebookInputSchema } from './notebook';
import { validateAgainstAllCrdSets } from './__testUtils__/crdSchemas';

const input = {
  name: 'shoe-brand-nb',
  namespace: 'team-a',
  entityRef: 'component:default/shoe-brand-notebook',
  modelRef: 'model:default/shoe-brand',
  image: 'kubeflownotebookswg/jupyter-pytorch-cuda-full:v1.9.0',
  resources: { cpu: '2', memory: '8Gi', gpu: 1 },
  env: [{ name: 'HF_HOME', value: '/home/jovyan/.cache' }],
  workspace: { size: '20Gi', storageClassName: 'standard' },
  datasets: [
    { name: 'shoes', claimName: 'shoes-v3' },
    {
      name: 'brands',
      claimName: 'brands',
      mountPath: '/mnt/brands',
      subPath: 'v1',
    },
  ],
};

describe('buildNotebook', () => {
  it('builds a workspace PVC and a Notebook with resources, GPU and read-only datasets', () => {
    const [pvc, notebook] = buildNotebook(input);
    expect(pvc).toMatchObject({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'shoe-brand-nb-workspace', namespace: 'team-a' },
      spec: {
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: '20Gi' } },
        storageClassName: 'standard',
      },
    });
    expect(notebook.apiVersion).toBe('kubeflow.org/v1');
    expect(notebook.kind).toBe('Notebook');
    expect(notebook.metadata.labels).toEqual({
      'app.kubernetes.io/managed-by': 'kubeai',
      'kubeai.io/entity': 'component.default.shoe-brand-notebook',
      'kubeai.io/model': 'shoe-brand',
    });
    const pod = (notebook.spec as any).template.spec;
    expect(pod.containers).toEqual([
      {
        name: 'shoe-brand-nb',
        image: input.image,
        resources: {
          requests: { cpu: '2', memory: '8Gi' },
          limits: { memory: '8Gi', 'nvidia.com/gpu': '1' },
        },
        env: [{ name: 'HF_HOME', value: '/home/jovyan/.cache' }],
        volumeMounts: [
          { name: 'workspace', mountPath: '/home/jovyan' },
          { name: 'dataset-shoes', mountPath: '/data/shoes', readOnly: true },
          {
            name: 'dataset-brands',
            mountPath: '/mnt/brands',
            readOnly: true,
            subPath: 'v1',
          },
        ],
      },
    ]);
    expect(pod.volumes).toEqual([
      {
        name: 'workspace',
        persistentVolumeClaim: { claimName: 'shoe-brand-nb-workspace' },
      },
      {
        name: 'dataset-shoes',
        persistentVolumeClaim: { claimName: 'shoes-v3', readOnly: true },
      },
      {
        name: 'dataset-brands',
        persistentVolumeClaim: { claimName: 'brands', readOnly: true },
      },
    ]);
  });

  it('uses an existing workspace PVC without creating one', () => {
    const objects = buildNotebook({
      ...input,
      workspace: { existingClaim: 'my-home', mountPath: '/home/me' },
    });
    expect(objects.map(o => o.kind)).toEqual(['Notebook']);
    const pod = (objects[0].spec as any).template.spec;
    expect(pod.volumes[0]).toEqual({
      name: 'workspace',
      persistentVolumeClaim: { claimName: 'my-home' },
    });
    expect(pod.containers[0].volumeMounts[0]).toEqual({
      name: 'workspace',
      mountPath: '/home/me',
    });
  });

  it('builds a minimal notebook', () => {
    const objects = buildNotebook({
      name: 'nb',
      namespace: 'ns',
      image: 'jupyter/base-notebook:latest',
    });
    expect(objects).toEqual([
      {
        apiVersion: 'kubeflow.org/v1',
        kind: 'Notebook',
        metadata: {
          name: 'nb',
          namespace: 'ns',
          labels: { 'app.kubernetes.io/managed-by': 'kubeai' },
        },
        spec: {
          template: {
            spec: {
              containers: [
                { name: 'nb', image: 'jupyter/base-notebook:latest' },
              ],
            },
          },
        },
      },
    ]);
  });

  it("puts the Kueue labels on the Notebook's metadata (the controller copies them onto its pod, not spec.template.metadata)", () => {
    const [notebook] = buildNotebook({
      name: 'nb',
      namespace: 'ns',
      image: 'jupyter/base-notebook:latest',
      queue: { name: 'team-queue', priorityClass: 'development' },
      nodeSelector: { 'kubeai.io/pool': 'elastic' },
    });
    expect(notebook.metadata.labels).toEqual({
      'kueue.x-k8s.io/queue-name': 'team-queue',
      'kueue.x-k8s.io/priority-class': 'development',
      'app.kubernetes.io/managed-by': 'kubeai',
    });
    expect((notebook.spec as any).template).toEqual({
      spec: expect.objectContaining({
        nodeSelector: { 'kubeai.io/pool': 'elastic' },
      }),
    });
    // a queue without a name (no LocalQueue picked): no Kueue label at all
    const [unqueued] = buildNotebook({
      name: 'nb',
      namespace: 'ns',
      image: 'jupyter/base-notebook:latest',
      queue: { priorityClass: 'development' },
    });
    expect(unqueued.metadata.labels).toEqual({
      'app.kubernetes.io/managed-by': 'kubeai',
    });
  });

  it('validates the Notebook against the Kubeflow CRD schemas (v1.10 and newest)', () => {
    for (const variant of [
      input,
      { ...input, workspace: { existingClaim: 'home' }, datasets: [] },
    ]) {
      const notebook = buildNotebook(variant).find(o => o.kind === 'Notebook')!;
      const { sets, report } = validateAgainstAllCrdSets(notebook);
      expect(sets).toEqual(['top', 'newest']);
      expect(report).toBe('');
    }
  });

  it('rejects invalid input with the field named', () => {
    const bad = (patch: object) =>
      notebookInputSchema.safeParse({ ...input, ...patch });
    expect(bad({ name: 'Shoe_NB' }).error?.issues[0].path).toEqual(['name']);
    expect(bad({ resources: { gpu: -1 } }).error?.issues[0].path).toEqual([
      'resources',
      'gpu',
    ]);
    expect(bad({ resources: { memory: '8GB' } }).error?.issues[0].path).toEqual(
      ['resources', 'memory'],
    );
    expect(
      bad({ workspace: { size: '1Gi', existingClaim: 'x' } }).success,
    ).toBe(false);
    expect(bad({ workspace: {} }).success).toBe(false);
    expect(bad({ image: 'not an image' }).success).toBe(false);
    expect(bad({ command: ['sh'] }).success).toBe(false); // unknown field
    expect(
      bad({
        workspace: { size: '1Gi' },
        datasets: [{ name: 'x', claimName: 'x', mountPath: '/home/jovyan' }],
      }).success,
    ).toBe(false);
    expect(() => buildNotebook({ ...input, namespace: 'Team A' })).toThrow(
      /namespace/,
    );
  });
});
