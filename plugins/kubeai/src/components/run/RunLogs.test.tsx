import { fireEvent, screen, waitFor } from '@testing-library/react';
import {
  mockKubeaiApi,
  renderWithApis,
  responseError,
  run,
} from '../../__testUtils__';
import { LOG_TAIL, RunLogs } from './RunLogs';

jest.setTimeout(30_000);

/** A stream of log chunks, as `followRunLogs` answers; `end()` closes it. */
function logStream() {
  let push: (text: string) => void = () => {};
  let end: () => void = () => {};
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      push = text => controller.enqueue(new TextEncoder().encode(text));
      end = () => controller.close();
    },
  });
  return { stream, push: (t: string) => push(t), end: () => end() };
}

describe('RunLogs', () => {
  it('shows the last lines of the pods, and refreshes them', async () => {
    const getRunLogs = jest
      .fn()
      .mockResolvedValueOnce('[p-0] epoch 1 loss 0.9\n[p-1] epoch 1 loss 0.8\n')
      .mockResolvedValueOnce('[p-0] epoch 2 loss 0.5\n');
    const api = mockKubeaiApi({ getRunLogs });
    await renderWithApis(<RunLogs run={run('r1')} />, { kubeai: api });
    expect(await screen.findByLabelText('Log lines')).toHaveTextContent(
      '[p-1] epoch 1 loss 0.8',
    );
    expect(getRunLogs).toHaveBeenCalledWith('r1', { tail: LOG_TAIL });
    fireEvent.click(screen.getByRole('button', { name: 'Refresh' }));
    await waitFor(() =>
      expect(screen.getByLabelText('Log lines')).toHaveTextContent(
        'epoch 2 loss 0.5',
      ),
    );
  });

  it('says why there are no logs, with the server message', async () => {
    const api = mockKubeaiApi({
      getRunLogs: jest
        .fn()
        .mockRejectedValue(await responseError(404, 'run r1 has no pods')),
    });
    await renderWithApis(<RunLogs run={run('r1')} />, { kubeai: api });
    expect(await screen.findByRole('alert')).toHaveTextContent(
      /No pods to read logs from .*run r1 has no pods/,
    );
  });

  it('follows new lines until the pods end, and stops on request', async () => {
    const first = logStream();
    const followRunLogs = jest.fn().mockResolvedValueOnce(first.stream);
    const api = mockKubeaiApi({
      getRunLogs: jest.fn().mockResolvedValue('old line\n'),
      followRunLogs,
    });
    await renderWithApis(<RunLogs run={run('r1')} />, { kubeai: api });
    await screen.findByLabelText('Log lines');
    fireEvent.click(screen.getByRole('button', { name: 'Follow' }));
    expect(
      await screen.findByRole('button', { name: 'Stop following' }),
    ).toHaveAttribute('aria-pressed', 'true');
    expect(followRunLogs).toHaveBeenCalledWith(
      'r1',
      { tail: LOG_TAIL },
      { signal: expect.any(AbortSignal) },
    );
    first.push('step 1\n');
    first.push('step 2\n');
    await waitFor(() =>
      expect(screen.getByLabelText('Followed log lines')).toHaveTextContent(
        'step 1 step 2',
      ),
    );
    // the pods ended: the stream closes, the lines stay
    first.end();
    expect(
      await screen.findByRole('button', { name: 'Follow' }),
    ).toHaveAttribute('aria-pressed', 'false');
    expect(screen.getByLabelText('Followed log lines')).toHaveTextContent(
      'step 2',
    );

    // following again, then stopping aborts the request
    const second = logStream();
    followRunLogs.mockResolvedValueOnce(second.stream);
    fireEvent.click(screen.getByRole('button', { name: 'Follow' }));
    await screen.findByRole('button', { name: 'Stop following' });
    const signal = followRunLogs.mock.calls[1][2].signal as AbortSignal;
    fireEvent.click(screen.getByRole('button', { name: 'Stop following' }));
    expect(signal.aborted).toBe(true);
  });
});
