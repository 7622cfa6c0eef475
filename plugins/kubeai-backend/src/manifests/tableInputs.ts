/**
 * Warehouse tables (ODPS / MaxCompute / Hive) as inputs of a workload. A table is not mounted: the
 * training code reads it with the engine's client, so the builders hand it engine, project, table
 * and partition as env (and, when asked, as arguments). Pure functions over validated inputs.
 */
import { TABLE_ENGINES, type TableEngine } from '@kubeai/plugin-kubeai-common';
import { z } from 'zod';
import { dnsLabelSchema } from './inputs';
import type { EnvVar } from './types';

const PARTITION_PART = '[A-Za-z_][A-Za-z0-9_]*=[-A-Za-z0-9_.:+]+';

/** A partition spec: `key=value` joined by `/` (Hive) or `,` (ODPS), e.g. `ds=2026-12-01`. */
export const PARTITION_PATTERN = new RegExp(
  `^${PARTITION_PART}([/,]${PARTITION_PART})*$`,
);

export const partitionSchema = z
  .string()
  .max(256, 'must be at most 256 characters')
  .regex(
    PARTITION_PATTERN,
    'must be a partition such as "ds=2026-12-01" or "ds=20261201/hh=00" (key=value joined by "/" or ",")',
  );

/** A project (database) or table name of the warehouse. */
const tableNameSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(
    /^[A-Za-z_][A-Za-z0-9_]*$/,
    'must be a warehouse name: letters, digits and "_", not starting with a digit',
  );

/** One table a workload reads. */
export const tableInputSchema = z
  .object({
    /** Logical name (DNS label); `KUBEAI_INPUT_<NAME>_…` is derived from it. */
    name: dnsLabelSchema,
    engine: z.enum(TABLE_ENGINES),
    project: tableNameSchema,
    table: tableNameSchema,
    partition: partitionSchema.optional(),
    /** Also pass the table as `--input-<name>-…=` arguments. */
    args: z.boolean().optional(),
  })
  .strict();
export type TableInput = z.infer<typeof tableInputSchema>;

/** Table inputs; names must be unique. */
export const tableInputsSchema = z
  .array(tableInputSchema)
  .max(32)
  .superRefine((tables, ctx) => {
    const names = new Set<string>();
    tables.forEach((t, i) => {
      if (names.has(t.name)) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: [i, 'name'],
          message: `duplicate table input "${t.name}"`,
        });
      }
      names.add(t.name);
    });
  });

/** The env prefix of a table input: `order-facts` → `KUBEAI_INPUT_ORDER_FACTS_` (names are DNS labels, so one-to-one). */
export function tableEnvPrefix(name: string): string {
  return `KUBEAI_INPUT_${name.toUpperCase().replace(/-/g, '_')}_`;
}

/** Where a table (partition) is: `odps://biz_dw.dws_trade_order_1d/ds=2026-12-01`. */
export function tableUri(table: {
  engine: string;
  project: string;
  table: string;
  partition?: string;
}): string {
  return `${table.engine}://${table.project}.${table.table}${
    table.partition ? `/${table.partition}` : ''
  }`;
}

/** The table a registry uri names ({@link tableUri}), or undefined for other uris. */
export function parseTableUri(uri: string):
  | {
      engine: TableEngine;
      project: string;
      table: string;
      partition?: string;
    }
  | undefined {
  const match =
    /^(odps|maxcompute|hive):\/\/([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)(?:\/(.+?))?\/?$/.exec(
      uri,
    );
  if (!match) return undefined;
  const [, engine, project, table, partition] = match;
  if (partition !== undefined && !PARTITION_PATTERN.test(partition)) {
    return undefined;
  }
  return {
    engine: engine as TableEngine,
    project,
    table,
    ...(partition ? { partition } : {}),
  };
}

/**
 * The dataset version name a partition is registered under when no version holds it yet: its
 * values (`ds=2026-12-01` → `2026-12-01`, `ds=20261201/hh=00` → `20261201_00`); undefined when
 * that is no valid version name (the registry then takes the next `v<n>`).
 */
export function partitionVersionName(partition: string): string | undefined {
  const name = partition
    .split(/[/,]/)
    .map(part => part.slice(part.indexOf('=') + 1))
    .join('_')
    .replace(/[^-_.a-zA-Z0-9]/g, '-');
  return /^[a-zA-Z0-9]([-_.a-zA-Z0-9]*[a-zA-Z0-9])?$/.test(name) &&
    name.length <= 64
    ? name
    : undefined;
}

/** Names of the env variables a table input sets (to refuse user env of the same name). */
export function tableEnvNames(
  table: Pick<TableInput, 'name' | 'partition'>,
): string[] {
  const prefix = tableEnvPrefix(table.name);
  return [
    'ENGINE',
    'PROJECT',
    'TABLE',
    'URI',
    ...(table.partition ? ['PARTITION'] : []),
  ].map(key => prefix + key);
}

/** Env of the table inputs: `KUBEAI_INPUT_<NAME>_ENGINE`, `_PROJECT`, `_TABLE`, `_PARTITION`, `_URI`. */
export function tableInputEnv(tables: TableInput[] | undefined): EnvVar[] {
  return (tables ?? []).flatMap(t => {
    const prefix = tableEnvPrefix(t.name);
    return [
      { name: `${prefix}ENGINE`, value: t.engine },
      { name: `${prefix}PROJECT`, value: t.project },
      { name: `${prefix}TABLE`, value: t.table },
      ...(t.partition
        ? [{ name: `${prefix}PARTITION`, value: t.partition }]
        : []),
      { name: `${prefix}URI`, value: tableUri(t) },
    ];
  });
}

/** Arguments of the table inputs that ask for them: `--input-<name>-project=…`, `-table=`, `-partition=`. */
export function tableInputArgs(tables: TableInput[] | undefined): string[] {
  return (tables ?? [])
    .filter(t => t.args)
    .flatMap(t => [
      `--input-${t.name}-project=${t.project}`,
      `--input-${t.name}-table=${t.table}`,
      ...(t.partition ? [`--input-${t.name}-partition=${t.partition}`] : []),
    ]);
}
