/**
 * Catalog entities created through the portal (`POST /datasets`, `POST /inference-services` with
 * `catalogEntity`): the KubeAI backend stores them (`GET /catalog-entities`) and announces each on
 * the events service; the catalog module's `KubeaiPortalEntityProvider` publishes them.
 */

/**
 * Events topic of portal entities: payload `{ entity }` for a created or changed one,
 * `{ removedEntityRef }` for one removed (its object was deleted through the portal).
 */
export const KUBEAI_PORTAL_ENTITY_TOPIC = 'kubeai.portal-entities';

/** `backstage.io/managed-by-location` (and origin) of portal entities: `kubeai-portal:<ref>`. */
export const KUBEAI_PORTAL_LOCATION_TYPE = 'kubeai-portal';
