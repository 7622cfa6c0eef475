import { renderTestApp } from '@backstage/frontend-test-utils';
import catalogPlugin from '@backstage/plugin-catalog/alpha';
import { catalogApiRef } from '@backstage/plugin-catalog-react';
import { catalogApiMock } from '@backstage/plugin-catalog-react/testUtils';
import type { AuditEvent } from '@kubeai/plugin-kubeai-common';
import { fireEvent, screen, within } from '@testing-library/react';
import kubeaiPlugin from '../../alpha';
import { kubeaiApiRef } from '../../api/refs';
import {
  mockKubeaiApi,
  renderWithApis,
  responseError,
  serviceEntity,
} from '../../__testUtils__';
import { ActivityCard, EntityActivityCard } from './ActivityCard';

jest.setTimeout(30_000);

const SERVICE = 'inferenceservice:default/ranker-serving';

function event(id: number, extra: Partial<AuditEvent> = {}): AuditEvent {
  return {
    id,
    occurredAt: new Date(Date.now() - 2 * 60_000).toISOString(),
    actor: 'user:default/alice',
    operationId: 'deployInferenceService',
    method: 'POST',
    path: '/inference-services',
    summary: 'deployed ranker v7 to ranker-serving as canary 10 %',
    outcome: 'succeeded',
    status: 201,
    dryRun: false,
    cluster: 'local',
    namespace: 'serving',
    entityRefs: [SERVICE, 'model:default/ranker'],
    runIds: [],
    modelVersion: 7,
    ...extra,
  };
}

const denied = event(9, {
  operationId: 'deleteInferenceService',
  method: 'DELETE',
  summary: 'delete inference service ranker-serving',
  outcome: 'denied',
  status: 403,
  error: 'kubeai.cluster.object.delete denied on local/serving',
  actor: 'user:default/bob',
});

describe('ActivityCard', () => {
  it('lists the events of the entity: who, when, and the denied ones marked with their reason', async () => {
    const api = mockKubeaiApi({
      listAuditEvents: jest
        .fn()
        .mockResolvedValue({ items: [denied, event(8)] }),
    });
    await renderWithApis(<EntityActivityCard />, {
      kubeai: api,
      entity: serviceEntity,
    });
    const list = await screen.findByRole('list', { name: 'Activity' });
    const items = within(list).getAllByRole('listitem');
    expect(items.map(i => i.getAttribute('aria-label'))).toEqual([
      'delete inference service ranker-serving',
      'deployed ranker v7 to ranker-serving as canary 10 %',
    ]);
    expect(within(items[0]).getByText('Denied')).toBeInTheDocument();
    expect(
      within(items[0]).getByText(
        'kubeai.cluster.object.delete denied on local/serving',
      ),
    ).toBeInTheDocument();
    expect(items[0]).toHaveTextContent('by user:default/bob, 2 min ago');
    expect(items[1]).toHaveTextContent('by user:default/alice, 2 min ago');
    expect(within(items[1]).queryByText('Denied')).not.toBeInTheDocument();
    expect(api.listAuditEvents).toHaveBeenCalledWith({
      entityRef: SERVICE,
      limit: 20,
    });
  });

  it('marks failed requests and dry runs, and pages to older events', async () => {
    const listAuditEvents = jest
      .fn()
      .mockResolvedValueOnce({
        items: [
          event(5, {
            summary:
              "deploy ranker 'candidate' to ranker-serving as canary 150 %",
            outcome: 'failed',
            status: 400,
            error: 'request/body/canaryTrafficPercent must be <= 99',
          }),
          event(4, {
            summary: 'dry run: delete training task train-1',
            dryRun: true,
            status: 200,
          }),
        ],
        nextBefore: 4,
      })
      .mockResolvedValueOnce({
        items: [event(3, { summary: 'created training task train-1 (Job)' })],
      });
    await renderWithApis(<ActivityCard filter={{ runId: 'r-1' }} />, {
      kubeai: mockKubeaiApi({ listAuditEvents }),
    });
    expect(await screen.findByText('Failed (400)')).toBeInTheDocument();
    expect(
      screen.getByText('request/body/canaryTrafficPercent must be <= 99'),
    ).toBeInTheDocument();
    expect(screen.getByText('Dry run')).toBeInTheDocument();
    fireEvent.click(screen.getByRole('button', { name: 'Older' }));
    expect(
      await screen.findByText('created training task train-1 (Job)'),
    ).toBeInTheDocument();
    expect(listAuditEvents).toHaveBeenLastCalledWith({
      runId: 'r-1',
      limit: 20,
      before: 4,
    });
    expect(screen.getAllByRole('listitem').length).toBe(3);
    // the last page: nothing older
    expect(
      screen.queryByRole('button', { name: 'Older' }),
    ).not.toBeInTheDocument();
  });

  it('says when nothing was recorded, and shows the server error', async () => {
    await renderWithApis(<ActivityCard filter={{ runId: 'r-1' }} />, {
      kubeai: mockKubeaiApi({
        listAuditEvents: jest.fn().mockResolvedValue({ items: [] }),
      }),
    });
    expect(
      await screen.findByText(/No changes recorded yet/),
    ).toBeInTheDocument();
  });

  it('shows why the activity could not be loaded', async () => {
    await renderWithApis(<ActivityCard filter={{ runId: 'r-1' }} />, {
      kubeai: mockKubeaiApi({
        listAuditEvents: jest
          .fn()
          .mockRejectedValue(await responseError(500, 'database down')),
      }),
    });
    expect(
      await screen.findByText(
        'Could not load the activity: database down (HTTP 500)',
      ),
    ).toBeInTheDocument();
  });

  it('is a card of the entity page', async () => {
    const kubeai = mockKubeaiApi({
      listAuditEvents: jest.fn().mockResolvedValue({ items: [denied] }),
    });
    renderTestApp({
      features: [catalogPlugin, kubeaiPlugin],
      apis: [
        [catalogApiRef, catalogApiMock({ entities: [serviceEntity] })],
        [kubeaiApiRef, kubeai],
      ],
      initialRouteEntries: ['/catalog/default/inferenceservice/ranker-serving'],
    });
    expect(
      await screen.findByText(
        'delete inference service ranker-serving',
        {},
        { timeout: 10_000 },
      ),
    ).toBeInTheDocument();
    expect(screen.getByText('Activity')).toBeInTheDocument();
    expect(kubeai.listAuditEvents).toHaveBeenCalledWith({
      entityRef: SERVICE,
      limit: 20,
    });
  });
});
