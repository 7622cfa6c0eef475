/**
 * `GET /lineage`: the graph dataset → run → model version → service around a start, in either
 * direction (../database/lineage.ts), with what runs on the clusters; answers are held per scope
 * versions (./lineageCache.ts), so every replica gives the same ETag for the same state.
 */
import type { ApiRouter } from '@backstage/backend-openapi-utils';
import { InputError, NotFoundError } from '@backstage/errors';
import { LineageGraph, LineageNodeType } from '@kubeai/plugin-kubeai-common';
import type { KubeaiOpenApiSpec } from '@kubeai/plugin-kubeai-node';
import express from 'express';
import { LineageStart } from '../database/lineage';
import type { RegistryStore } from '../database/RegistryStore';
import { kindOf, normalizeRef } from '../refs';
import type { Access } from './access/Access';
import {
  CachedAnswer,
  heldState,
  LineageCache,
  lineageEtag,
  patchHeld,
  validityOf,
} from './lineageCache';
import { modelVersionParam } from './queryParams';

export function registerLineageRoutes(
  api: ApiRouter<KubeaiOpenApiSpec>,
  options: {
    store: RegistryStore;
    access: Access;
    /** Memory for serialized answers ({@link LineageCache}); 0 holds none. */
    cacheBytes: number;
    /** Responses are validated against the spec: sent as objects, not as held bytes. */
    validateResponses: boolean;
  },
): void {
  const { store, access } = options;
  const cache =
    options.cacheBytes > 0 ? new LineageCache(options.cacheBytes) : undefined;

  api.get('/lineage', async (req, res) => {
    const credentials = await access.credentials(req);
    const { entityRef, runId, version } = req.query;
    const direction = req.query.direction ?? 'both';
    const depth = req.query.depth ?? 3;
    if ((entityRef === undefined) === (runId === undefined)) {
      throw new InputError(
        'request/query/entityRef: give exactly one of entityRef and runId',
      );
    }
    const start = lineageStart(entityRef, runId, version);
    const key = JSON.stringify([start, direction, depth]);
    const changes = store.changes;
    // An answer held for this key, if no scope of it changed (database/changes.ts): the same
    // versions on every replica, so the same ETag.
    const held = cache?.peek(key);
    if (held) {
      const state = await heldState(changes, held.validity);
      if (state === true) {
        res.setHeader('ETag', lineageEtag(key, held.validity.token));
        if (req.fresh) {
          // the client has this answer (If-None-Match): nothing to send
          res.status(304).end();
        } else {
          sendAnswer(res, held);
        }
        return;
      }
      // only details of some nodes changed since (a version's state, a run's phase): patch them
      const patched =
        state &&
        (await patchHeld(changes, held, state, ids =>
          store.lineageNodeDetails(ids),
        ));
      if (patched) {
        res.setHeader('ETag', lineageEtag(key, patched.validity.token));
        if (req.fresh) {
          cache!.set(key, patched.validity, patched.graph);
          res.status(304).end();
        } else if (options.validateResponses) {
          cache!.set(key, patched.validity, patched.graph);
          res.json(patched.graph);
        } else {
          sendAnswer(res, cache!.set(key, patched.validity, patched.graph));
        }
        return;
      }
      cache!.drop(key);
    }
    // before the walk: a write committing during it makes the answer unfit to keep
    const localWrites = changes.localWrites;
    const horizon = await changes.horizon();
    const graph = await store.lineageWithObserved(start, { direction, depth });
    if (graph) {
      // Registry answers only: a lone catalog node or an error depends on more than the registry.
      const validity = await validityOf(changes, graph, horizon, localWrites);
      // express answers 304 itself when If-None-Match matches
      if (validity) res.setHeader('ETag', lineageEtag(key, validity.token));
      if (!cache || options.validateResponses) {
        cache?.set(key, validity, graph);
        res.json(graph);
      } else {
        sendAnswer(res, cache.set(key, validity, graph));
      }
      return;
    }
    if (start.type === 'run') {
      throw new NotFoundError(`run ${start.id} not found`);
    }
    if ('version' in start && start.version !== undefined) {
      throw new NotFoundError(`${start.ref} has no version ${start.version}`);
    }
    // Nothing in the registry: a lone node if the catalog knows the entity, else 404.
    await access.assertInCatalog(credentials, [{ ref: start.ref }]);
    res.json(loneNode(start.ref, start.type));
  });
}

/** Sends a serialized JSON answer (its ETag is set already). */
function sendAnswer(res: express.Response, answer: CachedAnswer) {
  res.type('json');
  res.send(answer.body);
}

function lineageStart(
  entityRef: string | undefined,
  runId: string | undefined,
  version: string | undefined,
): LineageStart {
  if (runId !== undefined) {
    if (version !== undefined) {
      throw new InputError(
        'request/query/version: only with a model or dataset entityRef',
      );
    }
    return { type: 'run', id: runId };
  }
  const ref = normalizeRef(entityRef!);
  switch (kindOf(ref)) {
    case 'model':
      return { type: 'model', ref, version: modelVersionParam(version) };
    case 'dataset':
      return { type: 'dataset', ref, version };
    default:
      if (version !== undefined) {
        throw new InputError(
          'request/query/version: only with a model or dataset entityRef',
        );
      }
      return { type: 'inferenceService', ref };
  }
}

function loneNode(ref: string, type: LineageNodeType): LineageGraph {
  return {
    roots: [ref],
    nodes: [
      { id: ref, type, entityRef: ref, label: ref.slice(ref.indexOf('/') + 1) },
    ],
    edges: [],
  };
}
