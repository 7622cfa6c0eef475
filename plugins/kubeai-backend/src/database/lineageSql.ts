import { Knex } from 'knex';
import {
  whereInValues as whereInList,
  wherePairs as wherePairsList,
} from './util';

/*
 * The lineage walk's list conditions. On PostgreSQL a list is one array parameter
 * (`column = any($1::text[])`): a frontier of a hot model is thousands of values, and thousands of
 * placeholders cost more to build (knex), bind (pg) and parse (server) than the index lookups they
 * ask for. Other databases keep `util.ts`'s forms (SQLite: one `json_each` parameter).
 */

const isPostgres = (query: Knex.QueryBuilder) =>
  (query as unknown as { client?: { config?: { client?: unknown } } }).client
    ?.config?.client === 'pg';

/** An array literal (`{"a","b"}` / `{1,2}`): one parameter, whatever the number of values. */
function arrayLiteral(values: Array<string | number>): string {
  return `{${values
    .map(v =>
      typeof v === 'number'
        ? String(v)
        : `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`,
    )
    .join(',')}}`;
}

const arrayType = (values: Array<string | number>) =>
  values.length > 0 && typeof values[0] === 'number' ? 'bigint[]' : 'text[]';

/** `column IN (…values)`. */
export function whereInValues<V extends string | number>(
  query: Knex.QueryBuilder,
  column: string,
  values: V[],
): Knex.QueryBuilder {
  if (values.length > 1 && isPostgres(query)) {
    return query.whereRaw(`?? = any(?::${arrayType(values)})`, [
      column,
      arrayLiteral(values),
    ]);
  }
  return whereInList(query, column, values);
}

/** `(ref = … and version IN (…)) or …` for each ref of `pairs`. */
export function wherePairs<V extends string | number>(
  query: Knex.QueryBuilder,
  refColumn: string,
  versionColumn: string,
  pairs: Map<string, V[]>,
): Knex.QueryBuilder {
  if (!isPostgres(query)) {
    return wherePairsList(query, refColumn, versionColumn, pairs);
  }
  return query.where(outer => {
    for (const [ref, versions] of pairs) {
      outer.orWhere(inner =>
        whereInValues(inner.where(refColumn, ref), versionColumn, versions),
      );
    }
  });
}
