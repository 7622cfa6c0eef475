import { deployment, mockKubeaiApi, revision } from '../__testUtils__';
import {
  ClusterInferenceServiceActions,
  canaryOf,
  mainVersion,
  canaryTraffic,
  formatTraffic,
  RegistryInferenceServiceActions,
} from './InferenceServiceActions';

const service = { namespace: 'default', name: 'ranker-serving' };

describe('traffic helpers', () => {
  it('splits between the canary and the version with the largest share', () => {
    expect(
      canaryTraffic(
        [
          { version: 3, percent: 90 },
          { version: 4, percent: 10 },
        ],
        5,
        20,
      ),
    ).toEqual([
      { version: 3, percent: 80 },
      { version: 5, percent: 20 },
    ]);
    expect(canaryTraffic([{ version: 3, percent: 100 }], 5, 100)).toEqual([
      { version: 5, percent: 100 },
    ]);
  });

  it('rejects impossible splits', () => {
    expect(() => canaryTraffic([{ version: 3, percent: 100 }], 3, 10)).toThrow(
      /No other version/,
    );
    expect(() => canaryTraffic([], 3, 0)).toThrow(/1 to 100/);
    expect(() => canaryTraffic([], 0, 10)).toThrow(/Invalid model version/);
  });

  it('finds the canary and formats splits', () => {
    expect(canaryOf([{ version: 3, percent: 100 }])).toBeUndefined();
    expect(
      canaryOf([
        { version: 3, percent: 90 },
        { version: 4, percent: 10 },
      ]),
    ).toBe(4);
    expect(
      formatTraffic([
        { version: 4, percent: 10 },
        { version: 3, percent: 90 },
      ]),
    ).toBe('v3 90% · v4 10%');
    expect(formatTraffic([])).toBe('no traffic');
  });
});

describe('RegistryInferenceServiceActions', () => {
  it('updates, promotes and rolls back through PATCH /deployments', async () => {
    const current = deployment();
    const api = mockKubeaiApi({
      getDeployment: jest.fn().mockResolvedValue(current),
      updateDeployment: jest.fn().mockImplementation(async (_s, req) => ({
        ...current,
        ...req,
        revision: 3,
      })),
      listDeploymentRevisions: jest.fn().mockResolvedValue({
        items: [
          revision(2, current.traffic),
          revision(1, [{ version: 3, percent: 100 }]),
        ],
        totalItems: 2,
      }),
    });
    const actions = new RegistryInferenceServiceActions(api);

    const updated = await actions.update(service, {
      version: 5,
      canaryPercent: 25,
    });
    expect(api.updateDeployment).toHaveBeenLastCalledWith(service, {
      traffic: [
        { version: 3, percent: 75 },
        { version: 5, percent: 25 },
      ],
      message: 'Canary v5 at 25%',
    });
    expect(updated.message).toBe('Revision 3: v3 75% · v5 25%');

    await actions.promote(service);
    expect(api.updateDeployment).toHaveBeenLastCalledWith(service, {
      traffic: [{ version: 4, percent: 100 }],
      message: 'Promote v4',
    });

    await actions.rollback(service);
    expect(api.updateDeployment).toHaveBeenLastCalledWith(service, {
      modelRef: 'model:default/ranker',
      traffic: [{ version: 3, percent: 100 }],
      desired: {},
      message: 'Roll back to revision 1',
    });
  });

  it('refuses to promote without a canary or roll back without history', async () => {
    const single = deployment({
      traffic: [{ version: 3, percent: 100 }],
      revision: 1,
    });
    const api = mockKubeaiApi({
      getDeployment: jest.fn().mockResolvedValue(single),
      listDeploymentRevisions: jest.fn().mockResolvedValue({
        items: [revision(1, single.traffic)],
        totalItems: 1,
      }),
    });
    const actions = new RegistryInferenceServiceActions(api);
    await expect(actions.promote(service)).rejects.toThrow(/no canary/);
    await expect(actions.rollback(service)).rejects.toThrow(
      /no earlier revision/,
    );
    expect(api.updateDeployment).not.toHaveBeenCalled();
  });
});

describe('ClusterInferenceServiceActions', () => {
  const target = { cluster: 'local', namespace: 'serving', name: 'ranker' };
  function setup() {
    const current = deployment();
    const after = deployment({
      revision: 3,
      traffic: [{ version: 4, percent: 100 }],
    });
    const written = {
      dryRun: false,
      object: {
        cluster: 'local',
        apiVersion: 'serving.kserve.io/v1beta1',
        kind: 'InferenceService',
        namespace: 'serving',
        name: 'ranker',
      },
      objects: [],
      manifests: [],
      url: '/catalog/default/inferenceservice/ranker-serving',
      message: 'applied InferenceService serving/ranker',
      deployment: after,
    };
    const api = mockKubeaiApi({
      getDeployment: jest.fn().mockResolvedValue(current),
      deployInferenceService: jest.fn().mockResolvedValue(written),
      promoteInferenceService: jest.fn().mockResolvedValue(written),
      rollbackInferenceService: jest
        .fn()
        .mockResolvedValue({ ...written, deployment: undefined }),
      listDeploymentRevisions: jest.fn().mockResolvedValue({
        items: [
          revision(2, current.traffic),
          revision(1, [{ version: 3, percent: 100 }]),
        ],
        totalItems: 2,
      }),
    });
    return { api, actions: new ClusterInferenceServiceActions(api) };
  }

  it("deploys a canary or a full rollout of another version in the service's cluster", async () => {
    const { api, actions } = setup();
    const result = await actions.update(service, {
      version: 5,
      canaryPercent: 20,
    });
    expect(api.deployInferenceService).toHaveBeenLastCalledWith({
      ...target,
      model: 'model:default/ranker',
      modelVersion: 5,
      canaryTrafficPercent: 20,
      serviceRef: 'inferenceservice:default/ranker-serving',
      message: undefined,
    });
    expect(result.message).toBe(
      'applied InferenceService serving/ranker (Revision 3: v4 100%)',
    );
    await actions.update(service, { version: 5, canaryPercent: 100 });
    expect(api.deployInferenceService).toHaveBeenLastCalledWith(
      expect.objectContaining({
        modelVersion: 5,
        canaryTrafficPercent: undefined,
      }),
    );
    await expect(
      actions.update(service, { version: 5, canaryPercent: 0 }),
    ).rejects.toThrow();
  });

  it('promotes and rolls back the object, to the main version of a revision', async () => {
    const { api, actions } = setup();
    await actions.promote(service, { message: 'looks good' });
    expect(api.promoteInferenceService).toHaveBeenCalledWith(target, {
      message: 'looks good',
    });
    const rolled = await actions.rollback(service, { toRevision: 1 });
    expect(api.rollbackInferenceService).toHaveBeenCalledWith(target, {
      toVersion: 3,
      message: undefined,
    });
    // Without a deployment in the answer, the deployment is read again.
    expect(api.getDeployment).toHaveBeenCalledTimes(3);
    expect(rolled.deployment.revision).toBe(2);
    await expect(actions.rollback(service, { toRevision: 9 })).rejects.toThrow(
      /Revision 9 not found/,
    );
  });

  it('finds the main version of a split', () => {
    expect(
      mainVersion([
        { version: 3, percent: 10 },
        { version: 4, percent: 90 },
      ]),
    ).toBe(4);
    expect(mainVersion([])).toBeUndefined();
  });
});
