/*
 * What the seeding benchmarks' reports share: command-line numbers, latency statistics, number
 * formats, the machine's description, and writing one database's subsection ("### SQLite",
 * "### PostgreSQL") of a section of docs/benchmarks.md, so a run on either replaces only its own.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** `--name N` from the command line, else `fallback`. */
export const numberArg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};

export interface Stats {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  n: number;
}

export function stats(samples: number[]): Stats {
  if (samples.length === 0) return { p50: 0, p95: 0, p99: 0, max: 0, n: 0 };
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  return {
    p50: at(0.5),
    p95: at(0.95),
    p99: at(0.99),
    max: sorted[sorted.length - 1],
    n: sorted.length,
  };
}

export const n = (x: number) => Math.round(x).toLocaleString('en-US');
export const ms = (x: number) => `${x.toFixed(1)} ms`;
export const mib = (x: number) =>
  x >= 2 ** 20
    ? `${(x / 2 ** 20).toFixed(0)} MiB`
    : `${(x / 1024).toFixed(0)} KiB`;

/**
 * "Measured <date> UTC by `<script and its options>` on <cpus>, Node <version>, <database>": the
 * start of a report's first line.
 */
export const measuredBy = (
  script: string,
  r: {
    date: string;
    postgres: boolean;
    counts: { runs: number; days: number };
    cpus: string;
    node: string;
    db: string;
  },
) =>
  `Measured ${r.date.slice(0, 16).replace('T', ' ')} UTC by \`${script}${
    r.postgres ? ' --postgres' : ''
  }${
    r.counts.runs < 7_300_000 ? ` --count ${r.counts.days * 20_000}` : ''
  }\` on ${r.cpus}, Node ${r.node}, ${r.db}`;

/** Where and when it was measured, for the report's first line. */
export const machine = (
  db: { label: string; postgres: boolean },
  now: Date,
  loadAtStart: number,
) => ({
  db: db.label,
  postgres: db.postgres,
  date: now.toISOString(),
  cpus: `${os.cpus().length} × ${os.cpus()[0]?.model?.trim() ?? 'CPU'}`,
  node: process.version,
  loadAtStart,
  loadAtEnd: os.loadavg()[0],
});

/**
 * Replaces the subsection `heading` of the section "## `title`" of docs/benchmarks.md with
 * `text` (adding the section, with `intro`, and the subsection when missing); with `prettier`
 * the file is formatted as Markdown afterwards.
 */
export function writeBenchmarkSection(options: {
  title: string;
  intro: string;
  heading: string;
  text: string;
  prettier?: boolean;
}) {
  const { title, heading } = options;
  const text = options.text.trimEnd();
  const docPath = path.resolve(__dirname, '../../docs/benchmarks.md');
  let doc = fs.existsSync(docPath)
    ? fs.readFileSync(docPath, 'utf8')
    : '# Benchmarks\n';
  const marker = `\n## ${title}\n`;
  let start = doc.indexOf(marker);
  if (start < 0) {
    doc = `${doc.trimEnd()}\n\n## ${title}\n\n${options.intro}\n`;
    start = doc.indexOf(marker);
  }
  const next = doc.indexOf('\n## ', start + 1);
  const sectionEnd = next < 0 ? doc.length : next;
  const body = doc.slice(start, sectionEnd);
  const sub = body.indexOf(`\n${heading}\n`);
  let newBody: string;
  if (sub >= 0) {
    const subEnd = body.indexOf('\n### ', sub + 1);
    newBody = `${body.slice(0, sub + 1)}${text}\n${
      subEnd < 0 ? '' : `\n${body.slice(subEnd + 1)}`
    }`;
  } else {
    newBody = `${body.trimEnd()}\n\n${text}\n`;
  }
  doc = `${doc.slice(0, start)}${newBody}${doc.slice(sectionEnd)}`.trimEnd();
  if (options.prettier) {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const prettier = require('prettier');
    doc = prettier.format(`${doc}\n`, {
      ...require('@backstage/cli/config/prettier.json'),
      parser: 'markdown',
    });
  }
  fs.writeFileSync(docPath, `${doc.trimEnd()}\n`);
  console.error(`wrote ${docPath}`);
}
