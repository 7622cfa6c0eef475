/*
 * Agents (issue 18), against a running portal backend (real auth, the ownership policy, the local
 * control plane; ./__testUtils__/agentsFixture.ts): an MCP client (@modelcontextprotocol/sdk,
 * streamable HTTP) lists the tools, reads a team's cost and the deployments (the same as GET /cost
 * and GET /deployments), dry-runs a deploy (nothing changes in the cluster or the registry), and
 * gets a tool error when the policy denies the caller the deploy (nothing written). Callers from
 * outside are in externalCallers.test.ts.
 */
import {
  ALICE,
  BOB,
  CV_GROUP,
  useAgentsPortal,
} from './__testUtils__/agentsFixture';
import { must } from './__testUtils__/portalBackend';

jest.setTimeout(300_000);

const f = useAgentsPortal('agents');

describe('the MCP endpoint, with a user token', () => {
  it('lists the kubeai tools: read tools read-only, write tools with dryRun', async () => {
    const client = await f.mcpClient(f.portal.tokenOf(ALICE));
    try {
      // app-config.yaml tells the agent to dry-run before it writes
      expect(client.getServerVersion()?.name).toBe('kubeai-portal');
      expect(client.getInstructions()).toBe(f.mcpActions.instructions);
      expect(client.getInstructions()).toContain('dryRun: true');
      const { tools } = await client.listTools();
      const byName = new Map(tools.map(t => [t.name, t]));
      for (const name of [
        'list-model-versions',
        'list-deployments',
        'get-lineage',
        'get-impact',
        'get-run',
        'get-team-usage',
      ]) {
        const tool = byName.get(`kubeai.${name}`);
        expect([name, tool?.annotations?.readOnlyHint]).toEqual([name, true]);
        expect(tool?.inputSchema.type).toBe('object');
        expect(tool?.description?.length).toBeGreaterThan(80);
      }
      for (const name of [
        'create-notebook',
        'create-training-job',
        'create-dataset',
        'register-model-version',
        'deploy-inference-service',
        'promote-inference-service',
        'rollback-inference-service',
        'create-pipeline',
        'apply-pools',
      ]) {
        const tool = byName.get(`kubeai.${name}`);
        expect([name, tool?.annotations?.readOnlyHint]).toEqual([name, false]);
        expect([name, Object.keys(tool?.inputSchema.properties ?? {})]).toEqual(
          [name, expect.arrayContaining(['dryRun'])],
        );
      }
    } finally {
      await client.close();
    }
  });

  it("answers a team's cost and budget as GET /cost does", async () => {
    // one finished hour of 2 cores and 4 GiB in cv-team's namespace: 2 × 0.05 + 4 × 0.01 EUR
    const finishedAt = new Date(Date.now() - 60 * 60 * 1000);
    const startedAt = new Date(finishedAt.getTime() - 60 * 60 * 1000);
    const run = await must(f.portal, ALICE, 'post', '/api/kubeai/runs', {
      kind: 'training',
      cluster: 'local',
      namespace: f.CV_NS,
      name: `cost-${f.suffix}`,
      modelRef: f.MODEL_REF,
      phase: 'Succeeded',
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      params: { cpu: '2', memory: '4Gi' },
    });
    try {
      const team = encodeURIComponent(CV_GROUP);
      const [byMonth, byModel] = await Promise.all(
        ['month', 'model'].map(groupBy =>
          must(
            f.portal,
            ALICE,
            'get',
            `/api/kubeai/cost?team=${team}&groupBy=${groupBy}`,
          ),
        ),
      );
      expect(byMonth.total).toBeCloseTo(0.14, 6);
      const client = await f.mcpClient(f.portal.tokenOf(ALICE));
      try {
        const result: any = await client.callTool({
          name: 'kubeai.get-team-usage',
          arguments: { team: 'cv-team' },
        });
        expect(result.isError).toBeFalsy();
        const out = result.structuredContent;
        expect(out).toMatchObject({
          team: CV_GROUP,
          currency: 'EUR',
          total: 0.14,
          months: byMonth.items.map((i: any) => ({
            month: i.key,
            cost: Math.round(i.cost * 100) / 100,
            runs: i.runs,
          })),
          models: [{ model: f.MODEL_REF, cost: 0.14, runs: 1 }],
          totalModels: byModel.items.length,
          budget: {
            monthly: 10,
            state: byMonth.budget.state,
            message: byMonth.budget.message,
          },
          pools: [],
        });
        expect(out.summary).toMatch(
          /^group:default\/cv-team spent 0\.14 EUR in .*; most on model:default\/.* \(0\.14 EUR\); .*budget/,
        );
      } finally {
        await client.close();
      }
    } finally {
      await f.knex('kubeai_runs').where({ id: run.id }).delete();
    }
  });

  it('answers "which services run model X version N" as GET /deployments does', async () => {
    const rest = await must(
      f.portal,
      ALICE,
      'get',
      `/api/kubeai/deployments?model=${encodeURIComponent(
        f.MODEL_REF,
      )}&version=1`,
    );
    expect(rest.totalItems).toBe(1);
    const client = await f.mcpClient(f.portal.tokenOf(ALICE));
    try {
      const result: any = await client.callTool({
        name: 'kubeai.list-deployments',
        arguments: { model: f.MODEL_REF, version: 1 },
      });
      expect(result.isError).toBeFalsy();
      const out = result.structuredContent;
      expect(out.totalItems).toBe(rest.totalItems);
      expect(out.items).toEqual(
        rest.items.map((d: any) => ({
          serviceRef: d.serviceRef,
          cluster: d.cluster,
          namespace: d.namespace,
          name: d.name,
          modelRef: d.modelRef,
          traffic: d.traffic,
          revision: d.revision,
          ...(d.drift ? { drift: d.drift.status } : {}),
          updatedAt: d.updatedAt,
          updatedBy: d.updatedBy,
        })),
      );
      expect(out.summary).toContain(`inferenceservice:default/${f.SERVICE}`);
      expect(JSON.parse(result.content[0].text)).toEqual(out);
    } finally {
      await client.close();
    }
  });

  it('dry-runs a deploy: the would-be manifests, and nothing changes', async () => {
    const before = await f.snapshot();
    const client = await f.mcpClient(f.portal.tokenOf(ALICE));
    try {
      const result: any = await client.callTool({
        name: 'kubeai.deploy-inference-service',
        arguments: {
          ...f.deployInput(f.CV_NS),
          canaryTrafficPercent: 10,
          dryRun: true,
        },
      });
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({
        dryRun: true,
        objectRef: `inferenceservice:local/${f.CV_NS}/${f.SERVICE}`,
      });
      expect(
        result.structuredContent.manifests[0].spec.predictor,
      ).toMatchObject({
        canaryTrafficPercent: 10,
      });
    } finally {
      await client.close();
    }
    expect(await f.snapshot()).toEqual(before);
  });

  it('gives a tool error when the policy denies the deploy, and writes nothing', async () => {
    const before = await f.snapshot();
    const client = await f.mcpClient(f.portal.tokenOf(BOB));
    try {
      const result: any = await client.callTool({
        name: 'kubeai.deploy-inference-service',
        arguments: { ...f.deployInput(f.CV_NS), canaryTrafficPercent: 10 },
      });
      expect(result.isError).toBe(true);
      // the API's own refusal, naming the permission and the place
      expect(result.content[0].text).toMatch(
        /^NotAllowedError: KubeAI API 403: kubeai\.[a-z.]+ denied on \S+$/,
      );
    } finally {
      await client.close();
    }
    expect(await f.snapshot()).toEqual(before);
  });
});
