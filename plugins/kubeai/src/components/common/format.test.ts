import {
  entityNameOf,
  errorMessage,
  formatAgo,
  formatBytes,
  formatDuration,
  formatMetric,
  isNotFound,
  mapWithConcurrency,
  shortRef,
} from './format';
import { responseError } from '../../__testUtils__';

describe('format helpers', () => {
  it('formats sizes, durations and metrics', () => {
    expect(formatBytes(undefined)).toBe('—');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.0 GiB');
    expect(formatDuration('2026-01-01T00:00:00Z', '2026-01-01T01:30:05Z')).toBe(
      '1h 30m',
    );
    expect(formatDuration('2026-01-01T00:00:00Z', '2026-01-01T00:00:41Z')).toBe(
      '41s',
    );
    expect(formatDuration(undefined)).toBe('—');
    expect(formatMetric(0.912345)).toBe('0.9123');
    expect(formatMetric(undefined)).toBe('—');
  });

  it('says how long ago something happened', () => {
    const now = Date.parse('2026-12-30T12:00:00Z');
    expect(formatAgo('2026-12-30T11:59:50Z', now)).toBe('just now');
    expect(formatAgo('2026-12-30T11:58:00Z', now)).toBe('2 min ago');
    expect(formatAgo('2026-12-30T09:00:00Z', now)).toBe('3 h ago');
    expect(formatAgo('2026-12-29T12:00:00Z', now)).toBe('1 day ago');
    expect(formatAgo('not a time', now)).toBe('not a time');
  });

  it('reads entity refs', () => {
    expect(entityNameOf('model:default/foo')).toEqual({
      namespace: 'default',
      name: 'foo',
    });
    expect(shortRef('model:team/foo')).toBe('team/foo');
    expect(shortRef('model:default/foo')).toBe('foo');
  });

  it('shows the server message of a ResponseError, never a stack', async () => {
    const error = await responseError(
      404,
      'model:default/x not found in the catalog',
    );
    expect(errorMessage(error)).toBe(
      'model:default/x not found in the catalog (HTTP 404)',
    );
    expect(isNotFound(error)).toBe(true);
    expect(errorMessage(new Error('boom'))).toBe('boom');
  });

  it('limits concurrency and keeps the order', async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapWithConcurrency([1, 2, 3, 4, 5, 6], 2, async n => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise(r => setTimeout(r, 5));
      inFlight--;
      return n * 2;
    });
    expect(out).toEqual([2, 4, 6, 8, 10, 12]);
    expect(peak).toBe(2);
  });
});
