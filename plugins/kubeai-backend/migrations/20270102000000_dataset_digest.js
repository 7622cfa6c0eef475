// @ts-check

/*
 * Identical content is one dataset version: a version registered with the digest another version
 * of the same dataset has is that version (src/database/DatasetVersionStore.ts). The unique index
 * keeps it so under concurrent registrations. It is on `digest_key`, the digest lower-cased
 * (`sha256:ABC…` and `sha256:abc…` are the same content), not on `digest`, which stays as it was
 * recorded: versions registered earlier with a digest an older version of their dataset already has
 * keep their digest, name and uri (runs point to them); only the oldest of them gets the key, so
 * the index can be built without changing anything a user recorded. Rows without a key are NULL,
 * which unique indexes of SQLite and PostgreSQL both leave free.
 */

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('kubeai_dataset_versions', table => {
    table
      .string('digest_key', 200)
      .nullable()
      .comment(
        'The digest lower-cased; unique per dataset (identical content is one version)',
      );
  });
  const rows = await knex('kubeai_dataset_versions')
    .whereNotNull('digest')
    .orderBy('id', 'asc')
    .select('id', 'dataset_ref', 'digest');
  const seen = new Set();
  for (const row of rows) {
    const key = String(row.digest).toLowerCase();
    const seenKey = `${row.dataset_ref}\n${key}`;
    if (seen.has(seenKey)) continue;
    seen.add(seenKey);
    await knex('kubeai_dataset_versions')
      .where({ id: row.id })
      .update({ digest_key: key });
  }
  await knex.schema.alterTable('kubeai_dataset_versions', table => {
    table.unique(['dataset_ref', 'digest_key'], {
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
  await knex.schema.alterTable('kubeai_dataset_versions', table => {
    table.dropColumn('digest_key');
  });
};
