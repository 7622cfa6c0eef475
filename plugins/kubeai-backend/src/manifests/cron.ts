/**
 * A strict validator for the cron schedules Kubernetes CronJob and Argo CronWorkflow accept
 * (both parse with robfig/cron's standard parser): five fields
 * `minute hour day-of-month month day-of-week`, or one of the macros `@yearly`, `@annually`,
 * `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly`.
 *
 * Each field is a comma separated list of `*`, `?` (day fields only), `N`, `N-M`, and any of these
 * with `/step`. Months accept `JAN`–`DEC`, days of week `SUN`–`SAT` (0–6). Not accepted: seconds
 * fields, `L`, `W`, `#`, `@every`, `TZ=`/`CRON_TZ=` prefixes (the apiserver rejects time zones in
 * the schedule since 1.25; use the CronJob's `timeZone` or CronWorkflow's `timezone`).
 *
 * (`cron-parser` is not installed in this repository, so this is a small validator of its own.)
 */

const MACROS = new Set([
  '@yearly',
  '@annually',
  '@monthly',
  '@weekly',
  '@daily',
  '@midnight',
  '@hourly',
]);

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: string[];
  question?: boolean;
}

const FIELDS: FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31, question: true },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: [
      'JAN',
      'FEB',
      'MAR',
      'APR',
      'MAY',
      'JUN',
      'JUL',
      'AUG',
      'SEP',
      'OCT',
      'NOV',
      'DEC',
    ],
  },
  {
    name: 'day of week',
    min: 0,
    max: 6,
    names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'],
    question: true,
  },
];

function parseValue(text: string, field: FieldSpec): number | string {
  if (/^[0-9]{1,2}$/.test(text)) {
    const value = Number(text);
    if (value < field.min || value > field.max) {
      return `${field.name} value ${text} is out of range ${field.min}-${field.max}`;
    }
    return value;
  }
  const index = field.names?.indexOf(text.toUpperCase()) ?? -1;
  if (index >= 0) {
    return index + (field.min === 1 ? 1 : 0);
  }
  return `invalid ${field.name} value "${text}"`;
}

function checkItem(item: string, field: FieldSpec): string | undefined {
  const [range, step, ...rest] = item.split('/');
  if (rest.length > 0) {
    return `invalid ${field.name} "${item}"`;
  }
  if (step !== undefined) {
    if (!/^[0-9]{1,2}$/.test(step) || Number(step) < 1) {
      return `invalid ${field.name} step "${step}"`;
    }
  }
  if (range === '*' || (range === '?' && field.question)) {
    return undefined;
  }
  const bounds = range.split('-');
  if (bounds.length > 2 || bounds.some(b => b === '')) {
    return `invalid ${field.name} "${item}"`;
  }
  const values = bounds.map(b => parseValue(b, field));
  const error = values.find(v => typeof v === 'string');
  if (typeof error === 'string') {
    return error;
  }
  if (values.length === 2 && (values[0] as number) > (values[1] as number)) {
    return `${field.name} range "${range}" ends before it starts`;
  }
  return undefined;
}

/**
 * Checks a cron schedule. Returns `undefined` when valid, else a message saying what is wrong.
 */
export function cronScheduleError(schedule: string): string | undefined {
  const trimmed = schedule.trim();
  if (trimmed !== schedule || trimmed === '') {
    return 'must be a cron schedule without leading or trailing spaces';
  }
  if (trimmed.startsWith('@')) {
    return MACROS.has(trimmed.toLowerCase())
      ? undefined
      : `unknown macro "${trimmed}" (use @yearly, @monthly, @weekly, @daily or @hourly)`;
  }
  if (/^(CRON_)?TZ=/.test(trimmed)) {
    return 'must not contain a time zone (TZ=); set the time zone field instead';
  }
  const parts = trimmed.split(/\s+/);
  if (parts.length !== 5) {
    return `must have 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}`;
  }
  for (let i = 0; i < 5; i++) {
    for (const item of parts[i].split(',')) {
      const error = checkItem(item, FIELDS[i]);
      if (error) {
        return error;
      }
    }
  }
  return undefined;
}

/** True for a valid cron schedule (see {@link cronScheduleError}). */
export function isValidCronSchedule(schedule: string): boolean {
  return cronScheduleError(schedule) === undefined;
}
