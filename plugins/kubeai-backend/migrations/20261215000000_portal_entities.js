// @ts-check

/*
 * Catalog entities created through the portal (`POST /datasets`, `POST /inference-services` with
 * `catalogEntity`): the KubeAI backend stores them, and the catalog module's entity provider
 * (`plugins/catalog-backend-module-kubeai/src/provider`) publishes them to the catalog.
 */

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('kubeai_portal_entities', table => {
    table.comment(
      'Catalog entities created through the portal, published by the kubeai entity provider',
    );
    table
      .string('entity_ref', 255)
      .primary()
      .comment('kind:namespace/name, lower case');
    table.string('kind', 64).notNullable();
    table.text('entity').notNullable().comment('JSON of the entity');
    table.string('created_by', 255).notNullable();
    table.string('created_at', 32).notNullable();
    table.string('updated_by', 255).notNullable();
    table.string('updated_at', 32).notNullable();
    table.index(['updated_at'], 'kubeai_portal_entities_updated_idx');
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.dropTable('kubeai_portal_entities');
};
