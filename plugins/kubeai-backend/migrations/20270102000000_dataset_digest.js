// @ts-check

/*
 * Identical content is one dataset version: a version registered with the digest another version
 * of the same dataset has is that version (src/database/DatasetVersionStore.ts). The unique index
 * keeps it so under concurrent registrations. Rows without a digest are NULL, which unique indexes
 * of SQLite and PostgreSQL both leave free, so no partial index is needed.
 *
 * Digests are stored lower-case (`sha256:ABC…` and `sha256:abc…` are the same content). Versions
 * registered earlier with a digest an older version of their dataset already has keep their name
 * and uri (runs point to them) but lose the repeated digest, so the index can be built.
 */

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  const rows = await knex('kubeai_dataset_versions')
    .whereNotNull('digest')
    .orderBy('id', 'asc')
    .select('id', 'dataset_ref', 'digest');
  const seen = new Set();
  for (const row of rows) {
    const digest = String(row.digest).toLowerCase();
    const key = `${row.dataset_ref}\n${digest}`;
    const next = seen.has(key) ? null : digest;
    seen.add(key);
    if (next !== row.digest) {
      await knex('kubeai_dataset_versions')
        .where({ id: row.id })
        .update({ digest: next });
    }
  }
  await knex.schema.alterTable('kubeai_dataset_versions', table => {
    table.unique(['dataset_ref', 'digest'], {
      indexName: 'kubeai_dataset_versions_ref_digest_uniq',
    });
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.alterTable('kubeai_dataset_versions', table => {
    table.dropUnique([], 'kubeai_dataset_versions_ref_digest_uniq');
  });
};
