import { cronScheduleError, isValidCronSchedule } from './cron';
import {
  commandSchema,
  cpuQuantitySchema,
  datasetMountsSchema,
  dnsLabelSchema,
  envSchema,
  gpuCountSchema,
  imageSchema,
  labelValueSchema,
  memoryQuantitySchema,
  mountPathSchema,
  storageUriSchema,
} from './inputs';

describe('cron schedules', () => {
  it.each([
    '0 3 * * *',
    '*/15 * * * *',
    '0 0 1 1 *',
    '0 9-17/2 * * MON-FRI',
    '5,35 0 ? JAN,jul sun',
    '0 0 * * 6',
    '30 2/3 * * *',
    '@daily',
    '@hourly',
    '@midnight',
  ])('accepts %s', schedule => {
    expect(cronScheduleError(schedule)).toBeUndefined();
  });

  it.each([
    ['', 'without leading or trailing'],
    [' 0 3 * * *', 'without leading or trailing'],
    ['0 3 * *', 'must have 5 fields'],
    ['0 0 3 * * *', 'must have 5 fields'],
    ['60 * * * *', 'out of range'],
    ['* 24 * * *', 'out of range'],
    ['* * 0 * *', 'out of range'],
    ['* * * 13 *', 'out of range'],
    ['* * * * 7', 'out of range'],
    ['5-1 * * * *', 'ends before it starts'],
    ['*/0 * * * *', 'step'],
    ['* * L * *', 'invalid day of month'],
    ['* * * * 1#2', 'invalid day of week'],
    ['? * * * *', 'invalid minute'],
    ['@every 1h', 'unknown macro'],
    ['TZ=UTC 0 3 * * *', 'time zone'],
    ['0 3 * * *; rm -rf /', 'must have 5 fields'],
    ['0 3 * * *;', 'invalid day of week'],
  ])('rejects %j', (schedule, message) => {
    expect(cronScheduleError(schedule)).toContain(message);
    expect(isValidCronSchedule(schedule)).toBe(false);
  });
});

describe('input schemas', () => {
  const ok = (
    schema: { safeParse(v: unknown): { success: boolean } },
    v: unknown,
  ) => schema.safeParse(v).success;

  it('checks DNS-1123 names', () => {
    expect(ok(dnsLabelSchema, 'shoe-brand-1')).toBe(true);
    for (const bad of ['Shoe', '-a', 'a-', 'a_b', 'a.b', '', 'x'.repeat(64)]) {
      expect(ok(dnsLabelSchema, bad)).toBe(false);
    }
  });

  it('checks quantities and GPUs', () => {
    for (const good of ['1', '0.5', '500m', '2.25']) {
      expect(ok(cpuQuantitySchema, good)).toBe(true);
    }
    for (const bad of ['0', '-1', '1Gi', 'one', '1.2345', '', '0m']) {
      expect(ok(cpuQuantitySchema, bad)).toBe(false);
    }
    for (const good of ['512Mi', '4Gi', '1.5G', '1000000', '1Ti']) {
      expect(ok(memoryQuantitySchema, good)).toBe(true);
    }
    for (const bad of ['0', '0Gi', '4gb', '-1Gi', '1e3', 'lots']) {
      expect(ok(memoryQuantitySchema, bad)).toBe(false);
    }
    expect(ok(gpuCountSchema, 0)).toBe(true);
    expect(ok(gpuCountSchema, 8)).toBe(true);
    for (const bad of [-1, 1.5, '1', NaN]) {
      expect(ok(gpuCountSchema, bad)).toBe(false);
    }
  });

  it('keeps commands as argv arrays', () => {
    expect(
      ok(commandSchema, ['python', '-m', 'train', '--epochs=3; rm -rf /']),
    ).toBe(true);
    expect(ok(commandSchema, 'python train.py')).toBe(false);
    expect(ok(commandSchema, [])).toBe(false);
    expect(ok(commandSchema, [''])).toBe(false);
    expect(ok(commandSchema, ['python', 'a\u0000b'])).toBe(false);
  });

  it('checks env names, duplicates and secret references', () => {
    expect(
      ok(envSchema, [
        { name: 'EPOCHS', value: '3' },
        { name: 'my.var-1', value: '' },
      ]),
    ).toBe(true);
    expect(
      ok(envSchema, [
        { name: 'TOKEN', secretKeyRef: { name: 'creds', key: 'token' } },
      ]),
    ).toBe(true);
    for (const name of ['1ABC', 'A B', 'A=B', '', 'A$']) {
      expect(ok(envSchema, [{ name, value: 'x' }])).toBe(false);
    }
    expect(
      ok(envSchema, [
        { name: 'A', value: '1' },
        { name: 'A', value: '2' },
      ]),
    ).toBe(false);
    expect(
      ok(envSchema, [
        { name: 'A', value: '1', secretKeyRef: { name: 's', key: 'k' } },
      ]),
    ).toBe(false);
  });

  it('checks images, paths, label values and storage URIs', () => {
    for (const good of [
      'python:3.12',
      'ghcr.io/org/trainer:1.2',
      'localhost:5000/a/b',
      `r.io/x@sha256:${'a'.repeat(64)}`,
    ]) {
      expect(ok(imageSchema, good)).toBe(true);
    }
    for (const bad of ['python 3', 'a:b:c:d', '', 'x;y']) {
      expect(ok(imageSchema, bad)).toBe(false);
    }
    expect(ok(mountPathSchema, '/data/x')).toBe(true);
    for (const bad of ['data', '/a/../etc', '/a:b']) {
      expect(ok(mountPathSchema, bad)).toBe(false);
    }
    expect(ok(labelValueSchema, '1.2.0')).toBe(true);
    expect(ok(labelValueSchema, '1.2.0-')).toBe(false);
    expect(ok(storageUriSchema, 's3://models/shoe/3')).toBe(true);
    expect(ok(storageUriSchema, 'ftp://x/y')).toBe(false);
    expect(ok(storageUriSchema, 's3://a b')).toBe(false);
  });

  it('rejects duplicate dataset names and mount paths', () => {
    expect(
      ok(datasetMountsSchema, [
        { name: 'a', claimName: 'a' },
        { name: 'b', claimName: 'b' },
      ]),
    ).toBe(true);
    expect(
      ok(datasetMountsSchema, [
        { name: 'a', claimName: 'a' },
        { name: 'a', claimName: 'b' },
      ]),
    ).toBe(false);
    expect(
      ok(datasetMountsSchema, [
        { name: 'a', claimName: 'a', mountPath: '/data/x' },
        { name: 'b', claimName: 'b', mountPath: '/data/x' },
      ]),
    ).toBe(false);
  });
});
