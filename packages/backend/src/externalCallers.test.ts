/*
 * Callers from outside (`backend.auth.externalAccess`, issue 18), against a running portal backend
 * (real auth, the ownership policy, the local control plane; ./__testUtils__/agentsFixture.ts): a
 * static token granted reads reads the lineage and is refused a deploy; a token mapped to a team
 * (`kubeai.tenancy.serviceTeams`) writes where that team may and nowhere else, and nothing its
 * entry does not name (the production file's entries as shipped); an unmapped token granted writes
 * only reads; nobody from outside writes in the catalog; a JWKS token reads through MCP and is
 * refused the write tools there; unknown, expired, foreign or forged tokens get 401.
 */
import { KubeaiClient } from '@kubeai/plugin-kubeai-common';
import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { ALICE, useAgentsPortal } from './__testUtils__/agentsFixture';

jest.setTimeout(300_000);

const f = useAgentsPortal('callers');

describe('callers from outside (backend.auth.externalAccess)', () => {
  it('a static token granted reads reads the lineage and is refused a deploy', async () => {
    const lineage = await f.asToken(
      f.READER_TOKEN,
      'get',
      `/api/kubeai/lineage?entityRef=${encodeURIComponent(f.MODEL_REF)}`,
    );
    expect(lineage.status).toBe(200);
    expect(lineage.body.nodes.map((n: any) => n.type)).toEqual(
      expect.arrayContaining(['model', 'modelVersion', 'inferenceService']),
    );
    const before = await f.snapshot();
    const deploy = await f.asToken(
      f.READER_TOKEN,
      'post',
      '/api/kubeai/inference-services',
      {
        ...f.deployInput(f.CV_NS),
        canaryTrafficPercent: 10,
      },
    );
    expect(deploy.status).toBe(403);
    expect(await f.snapshot()).toEqual(before);
  });

  it('the typed client (README) with a static token: reads, and a refused write throws the 403', async () => {
    // as another platform would use it: the portal's URL, the token per call
    const kubeai = new KubeaiClient({
      discoveryApi: {
        getBaseUrl: async () => `${f.portal.baseUrl}/api/kubeai`,
      },
    });
    const { items } = await kubeai.listDeployments(
      { model: f.MODEL_REF, version: 1 },
      { token: f.READER_TOKEN },
    );
    expect(items.map(d => d.serviceRef)).toEqual([
      `inferenceservice:default/${f.SERVICE}`,
    ]);
    const before = await f.snapshot();
    await expect(
      kubeai.deployInferenceService(
        { ...f.deployInput(f.CV_NS), canaryTrafficPercent: 10 },
        { token: f.READER_TOKEN },
      ),
    ).rejects.toMatchObject({ response: { status: 403 } });
    expect(await f.snapshot()).toEqual(before);
  });

  it('a token mapped to a team writes where that team may and nowhere else', async () => {
    const before = await f.snapshot();
    const own = await f.asToken(
      f.CV_PLATFORM_TOKEN,
      'post',
      '/api/kubeai/inference-services',
      {
        ...f.deployInput(f.CV_NS),
        canaryTrafficPercent: 10,
        dryRun: true,
      },
    );
    // a dry run is decided as the write would be (and answers as it would, 201)
    expect([own.status, own.body.dryRun]).toEqual([201, true]);
    const elsewhere = await f.asToken(
      f.CV_PLATFORM_TOKEN,
      'post',
      '/api/kubeai/inference-services',
      f.deployInput(f.SEARCH_NS, `${f.SERVICE}-x`),
    );
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.body.error.message).toContain(`local/${f.SEARCH_NS}`);
    expect(await f.snapshot()).toEqual(before);
  });

  it('an unmapped token only reads, whatever its access restrictions grant', async () => {
    expect(
      (
        await f.asToken(
          f.UNMAPPED_TOKEN,
          'get',
          `/api/kubeai/deployments?model=${f.MODEL_REF}`,
        )
      ).status,
    ).toBe(200);
    const before = await f.snapshot();
    const deploy = await f.asToken(
      f.UNMAPPED_TOKEN,
      'post',
      '/api/kubeai/inference-services',
      {
        ...f.deployInput(f.CV_NS),
        dryRun: true,
      },
    );
    expect(deploy.status).toBe(403);
    expect(await f.snapshot()).toEqual(before);
  });

  it('an agent with a JWKS token reads through MCP and is refused the write tools', async () => {
    const client = await f.mcpClient(f.issuer.token('claude-7'));
    try {
      const lineage: any = await client.callTool({
        name: 'kubeai.get-lineage',
        arguments: { entityRef: f.MODEL_REF, maxNodes: 2 },
      });
      expect(lineage.isError).toBeFalsy();
      expect(lineage.structuredContent).toMatchObject({ truncated: true });
      expect(lineage.structuredContent.nodes).toHaveLength(2);
      expect(lineage.structuredContent.totals.nodes).toBeGreaterThan(2);
      const before = await f.snapshot();
      const deploy: any = await client.callTool({
        name: 'kubeai.deploy-inference-service',
        arguments: { ...f.deployInput(f.CV_NS), dryRun: true },
      });
      expect(deploy.isError).toBe(true);
      expect(deploy.content[0].text).toMatch(
        /^NotAllowedError: .*signed-in user/,
      );
      expect(await f.snapshot()).toEqual(before);
    } finally {
      await client.close();
    }
  });

  it('a platform with a JWKS token (audience kubeai-api) reads, is refused writes it was not granted and the MCP endpoint', async () => {
    // external:platforms:billing is mapped to cv-team, so the policy would allow the deploy in
    // cv-team's namespace: the refusal below is the entry's (it names no cluster write)
    const token = f.issuer.token('billing', 'kubeai-api');
    const lineage = await f.asToken(
      token,
      'get',
      `/api/kubeai/lineage?entityRef=${encodeURIComponent(f.MODEL_REF)}`,
    );
    expect(lineage.status).toBe(200);
    const before = await f.snapshot();
    const deploy = await f.asToken(
      token,
      'post',
      '/api/kubeai/inference-services',
      {
        ...f.deployInput(f.CV_NS),
        dryRun: true,
      },
    );
    expect([deploy.status, deploy.body.error?.message]).toEqual([
      403,
      expect.stringMatching(/^kubeai\.cluster\.object\.create denied/),
    ]);
    expect(await f.snapshot()).toEqual(before);
    await expect(f.mcpClient(token)).rejects.toThrow(
      /403|not included|Forbidden/i,
    );
  });

  it("an agent's JWKS token (audience kubeai-agents) writes nothing calling the API directly either", async () => {
    const before = await f.snapshot();
    const deploy = await f.asToken(
      f.issuer.token('claude-7'),
      'post',
      '/api/kubeai/inference-services',
      { ...f.deployInput(f.CV_NS), dryRun: true },
    );
    expect(deploy.status).toBe(403);
    expect(await f.snapshot()).toEqual(before);
  });

  it("cannot reach the catalog's write actions, which would run as the catalog itself", async () => {
    const invoke = (id: string, input: object) =>
      f.asToken(
        f.CV_PLATFORM_TOKEN,
        'post',
        `/api/catalog/.backstage/actions/v1/actions/${id}/invoke`,
        input,
      );
    // left out of the registry by app-config.production.yaml's backend.actions.filter
    const unregister = await invoke('catalog:unregister-entity', {
      type: { locationId: randomUUID() },
    });
    expect([unregister.status, unregister.body.error.message]).toEqual([
      404,
      'Action "catalog:unregister-entity" not found',
    ]);
    const read = await invoke('catalog:get-catalog-entity', {
      kind: 'Model',
      namespace: 'default',
      name: f.MODEL,
    });
    expect([read.status, read.body.output?.metadata?.name]).toEqual([
      200,
      f.MODEL,
    ]);
    // and the MCP endpoint does not offer them
    const client = await f.mcpClient(f.portal.tokenOf(ALICE));
    try {
      const names = (await client.listTools()).tools.map(t => t.name);
      expect(names).toContain('catalog.get-catalog-entity');
      expect(
        names.filter(n => /^catalog\.(register|unregister|refresh)/.test(n)),
      ).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it('answers 401 to an unknown token and to no token', async () => {
    const unknown = randomBytes(24).toString('hex');
    expect(
      (await f.asToken(unknown, 'get', '/api/kubeai/deployments')).status,
    ).toBe(401);
    expect(
      (await request(f.portal.server).get('/api/kubeai/deployments')).status,
    ).toBe(401);
    const mcp = await request(f.portal.server)
      .post('/api/mcp-actions/v1')
      .set('Authorization', `Bearer ${unknown}`)
      .set('Accept', 'application/json, text/event-stream')
      .send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    expect(mcp.status).toBe(401);
  });
  it("the production file's static entry writes for its team as granted, recorded as its subject, and nothing it does not name", async () => {
    // a version of cv-team's model (kubeai.model.version.create, granted; order-platform is mapped
    // to cv-team here) — a real write, not a dry run
    const version = await f.asToken(
      f.ORDER_PLATFORM_TOKEN,
      'post',
      `/api/kubeai/models/default/${f.MODEL}/versions`,
      {
        artifact: {
          uri: `s3://models/${f.MODEL}/external/model.onnx`,
          format: 'onnx',
        },
      },
    );
    expect([version.status, version.body.createdBy]).toEqual([
      201,
      'order-platform',
    ]);
    const stored = await f
      .knex('kubeai_model_versions')
      .where({ model_ref: f.MODEL_REF, version: version.body.version })
      .first();
    expect(stored?.created_by).toBe('order-platform');
    // deleting cv-team's service: its team may, the entry does not name kubeai.cluster.object.delete
    const before = await f.snapshot();
    const remove = await f.asToken(
      f.ORDER_PLATFORM_TOKEN,
      'delete',
      `/api/kubeai/clusters/local/namespaces/${f.CV_NS}/inference-services/${f.SERVICE}`,
    );
    expect([remove.status, remove.body.error?.message]).toEqual([
      403,
      expect.stringMatching(/^kubeai\.cluster\.object\.delete denied/),
    ]);
    expect(await f.snapshot()).toEqual(before);
  });

  it('writes nothing in the catalog: registering, unregistering and refreshing are refused to callers from outside', async () => {
    const locations = async () =>
      (
        await request(f.portal.server)
          .get('/api/catalog/locations')
          .set('Authorization', `Bearer ${f.portal.tokenOf(ALICE)}`)
      ).body.map((l: any) => l.data ?? l);
    // a location a user registered (the config's own locations are not listed)
    const registered = await request(f.portal.server)
      .post('/api/catalog/locations')
      .set('Authorization', `Bearer ${f.portal.tokenOf(ALICE)}`)
      .send({
        type: 'url',
        target: `https://example.com/kubeai-callers-${f.suffix}/catalog-info.yaml`,
      });
    expect(registered.status).toBe(201);
    const before = await locations();
    expect(before.map((l: any) => l.id)).toContain(registered.body.location.id);
    for (const token of [
      f.ORDER_PLATFORM_TOKEN,
      f.CV_PLATFORM_TOKEN,
      f.issuer.token('claude-7'),
    ]) {
      const register = await f.asToken(
        token,
        'post',
        '/api/catalog/locations',
        {
          type: 'url',
          target: 'https://example.com/team/catalog-info.yaml',
        },
      );
      expect(register.status).toBe(403);
      const unregister = await f.asToken(
        token,
        'delete',
        `/api/catalog/locations/${registered.body.location.id}`,
      );
      expect(unregister.status).toBe(403);
      const refresh = await f.asToken(token, 'post', '/api/catalog/refresh', {
        entityRef: f.MODEL_REF,
      });
      expect(refresh.status).toBe(403);
    }
    expect(await locations()).toEqual(before);
  });

  it('answers 401 to a JWKS token for another audience, from another issuer, expired or forged', async () => {
    const good = f.issuer.token('billing', 'kubeai-api');
    expect(
      (await f.asToken(good, 'get', '/api/kubeai/deployments')).status,
    ).toBe(200);
    const [head, payload, signature] = good.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const forged = `${head}.${Buffer.from(
      JSON.stringify({ ...claims, sub: 'someone-else' }),
    ).toString('base64url')}.${signature}`;
    for (const token of [
      f.issuer.token('billing', 'kubeai-other'),
      f.issuer.token('billing', 'kubeai-api', {
        iss: 'https://elsewhere.example.com',
      }),
      f.issuer.token('billing', 'kubeai-api', {
        exp: Math.floor(Date.now() / 1000) - 60,
      }),
      forged,
    ]) {
      expect(
        (await f.asToken(token, 'get', '/api/kubeai/deployments')).status,
      ).toBe(401);
    }
  });
});
