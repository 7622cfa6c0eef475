import { screen } from '@testing-library/react';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import type { EvaluatePermissionRequest } from '@backstage/plugin-permission-common';
import {
  deployment,
  mockKubeaiApi,
  renderWithApis,
  revision,
} from '../../__testUtils__';
import type { InferenceServiceActions } from '../../api/InferenceServiceActions';
import { inferenceServiceActionsApiRef, kubeaiApiRef } from '../../api/refs';
import { ServiceActions } from './ServiceActions';

jest.setTimeout(30_000);

const actions: InferenceServiceActions = {
  update: jest.fn(),
  promote: jest.fn(),
  rollback: jest.fn(),
};

const revisions = [
  revision(2, [
    { version: 3, percent: 90 },
    { version: 4, percent: 10 },
  ]),
  revision(1, [{ version: 3, percent: 100 }]),
];

// usePermission caches decisions per permission and resource: every test has its own service
// and namespace.
function element(name: string) {
  return (
    <ServiceActions
      entityRef={`inferenceservice:default/${name}`}
      service={{ namespace: 'default', name }}
      deployment={deployment({ namespace: `${name}-ns` })}
      revisions={revisions}
      onChanged={jest.fn()}
    />
  );
}

const buttons = ['Update version', 'Promote v4', 'Roll back'];

describe('ServiceActions', () => {
  it('asks for the deployment update on the entity and the cluster write in its namespace, and offers the actions when both are allowed', async () => {
    const asked: EvaluatePermissionRequest[] = [];
    await renderWithApis(element('svc-allowed'), {
      actions,
      permission: request => {
        asked.push(request);
        return 'allow';
      },
    });
    for (const name of buttons) {
      expect(await screen.findByRole('button', { name })).toBeEnabled();
    }
    expect(screen.queryByRole('note')).not.toBeInTheDocument();
    expect(
      asked
        .map(
          r =>
            `${r.permission.name} ${'resourceRef' in r ? r.resourceRef : ''}`,
        )
        .sort(),
    ).toEqual([
      'kubeai.cluster.object.create local/svc-allowed-ns',
      'kubeai.deployment.update inferenceservice:default/svc-allowed',
    ]);
  });

  it("shows no promote / roll back controls on another team's service, only the reason", async () => {
    await renderWithApis(element('svc-other-team'), {
      actions,
      permission: 'deny',
    });
    expect(await screen.findByRole('note')).toHaveTextContent(
      'Read only: you may not change this deployment (permission kubeai.deployment.update on inferenceservice:default/svc-other-team and kubeai.cluster.object.create in local/svc-other-team-ns).',
    );
    for (const name of buttons) {
      expect(screen.queryByRole('button', { name })).not.toBeInTheDocument();
    }
  });

  it('shows no controls when only the namespace is not writable (an owned entity deployed to a foreign namespace)', async () => {
    await renderWithApis(element('svc-foreign-ns'), {
      actions,
      permission: request =>
        request.permission.name === 'kubeai.cluster.object.create'
          ? 'deny'
          : 'allow',
    });
    expect(await screen.findByRole('note')).toHaveTextContent(
      'Read only: you may not change this deployment (permission kubeai.cluster.object.create in local/svc-foreign-ns-ns).',
    );
    expect(screen.queryByRole('button')).not.toBeInTheDocument();
  });

  it('keeps the controls disabled while the permissions are being decided', async () => {
    await renderInTestApp(
      <TestApiProvider
        apis={[
          [kubeaiApiRef, mockKubeaiApi()],
          [inferenceServiceActionsApiRef, actions],
          // a permission backend that has not answered yet
          [permissionApiRef, { authorize: () => new Promise<never>(() => {}) }],
        ]}
      >
        {element('svc-deciding')}
      </TestApiProvider>,
    );
    for (const name of buttons) {
      expect(await screen.findByRole('button', { name })).toBeDisabled();
    }
    expect(screen.queryByRole('note')).not.toBeInTheDocument();
  });
});
