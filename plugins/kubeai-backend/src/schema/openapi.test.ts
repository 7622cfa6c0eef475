import { RESOURCE_TYPE_CATALOG_ENTITY } from '@backstage/plugin-catalog-common/alpha';
import {
  KUBEAI_CATALOG_ENTITY_RESOURCE_TYPE,
  kubeaiPermissions,
} from '@kubeai/plugin-kubeai-common';
import { kubeaiOpenApiSpec as spec } from '@kubeai/plugin-kubeai-node';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import YAML from 'yaml';

const packageDir = resolve(__dirname, '../..');

describe('the OpenAPI spec', () => {
  it('has generated files that match openapi.yaml (run `yarn generate:openapi` when this fails)', () => {
    let output = '';
    try {
      execFileSync(
        process.execPath,
        [resolve(packageDir, 'scripts/generate-openapi.mjs'), '--check'],
        { cwd: packageDir, stdio: 'pipe', encoding: 'utf8' },
      );
    } catch (error) {
      output = String((error as { stderr?: string }).stderr ?? error);
    }
    expect(output).toBe('');
  });

  it('is the YAML, with path parameters moved into the operations', () => {
    const yaml = YAML.parse(
      readFileSync(resolve(__dirname, 'openapi.yaml'), 'utf8'),
    );
    expect(spec.components).toEqual(yaml.components);
    expect(Object.keys(spec.paths)).toEqual(Object.keys(yaml.paths));
  });

  const operations = Object.entries(spec.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({
      path,
      method,
      op: op as {
        operationId?: string;
        summary?: string;
        responses: Record<string, { $ref?: string; content?: unknown }>;
      },
    })),
  );

  it.each(operations.map(o => [`${o.method.toUpperCase()} ${o.path}`, o]))(
    '%s is documented, with error answers',
    (_name, { method, op }) => {
      expect(op.operationId).toMatch(/^[a-z][A-Za-z]+$/);
      expect(op.summary).toBeTruthy();
      const codes = Object.keys(op.responses);
      expect(codes.some(c => c.startsWith('2'))).toBe(true);
      const changes = method === 'post' || method === 'patch';
      expect(codes).toEqual(
        expect.arrayContaining([
          '400',
          '401',
          ...(changes ? ['403', '413'] : []),
        ]),
      );
      for (const code of codes.filter(c => /^[45]/.test(c))) {
        expect(op.responses[code].$ref).toMatch(/^#\/components\/responses\//);
      }
    },
  );
});

describe('the permissions', () => {
  it('use the catalog resource type, so policies can decide them by entity ownership', () => {
    expect(KUBEAI_CATALOG_ENTITY_RESOURCE_TYPE).toBe(
      RESOURCE_TYPE_CATALOG_ENTITY,
    );
    expect(
      kubeaiPermissions.map(p => [
        p.name,
        'resourceType' in p ? p.resourceType : 'basic',
      ]),
    ).toEqual([
      ['kubeai.model.version.create', 'catalog-entity'],
      ['kubeai.model.version.update', 'catalog-entity'],
      ['kubeai.dataset.version.create', 'catalog-entity'],
      ['kubeai.run.create', 'kubeai-cluster-namespace'],
      ['kubeai.run.update', 'kubeai-cluster-namespace'],
      ['kubeai.deployment.create', 'catalog-entity'],
      ['kubeai.deployment.update', 'catalog-entity'],
      ['kubeai.cluster.object.create', 'kubeai-cluster-namespace'],
      ['kubeai.cluster.object.delete', 'kubeai-cluster-namespace'],
      // pools and quotas are the platform's: decided by caller, on no place
      ['kubeai.pool.update', 'basic'],
    ]);
  });
});
