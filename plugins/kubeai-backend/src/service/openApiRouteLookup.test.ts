/*
 * express-openapi-validator finds a request's route by trying the spec's routes in order; as
 * released (5.6.2) it compiled every route's path pattern with path-to-regexp again on every
 * request — for this plugin's spec about half a millisecond of CPU per request, and the router
 * runs the validator twice (requests, then responses). The project patches it
 * (.yarn/patches/express-openapi-validator-*.patch, as upstream's open
 * cdimascio/express-openapi-validator#1217 does) to compile each pattern once; this checks the
 * patch is in effect and routes and path parameters still resolve as before.
 */
import express from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import { dirname } from 'node:path';
import request from 'supertest';

// the path-to-regexp the validator itself loads
const pathToRegexpModule = require(require.resolve('path-to-regexp', {
  paths: [dirname(require.resolve('express-openapi-validator'))],
}));

const spec = {
  openapi: '3.0.3',
  info: { title: 'lookup', version: '1' },
  paths: Object.fromEntries(
    ['/a', '/b/{name}', '/items/{namespace}/{name}'].map(path => [
      path,
      {
        get: {
          parameters: [...path.matchAll(/\{(\w+)\}/g)].map(m => ({
            name: m[1],
            in: 'path',
            required: true,
            schema: { type: 'string' },
          })),
          responses: { '200': { description: 'ok' } },
        },
      },
    ]),
  ),
};

function app() {
  const server = express();
  server.use(
    OpenApiValidator.middleware({
      apiSpec: spec as never,
      validateRequests: true,
      validateResponses: false,
    }),
  );
  server.get('/items/:namespace/:name', (req, res) => {
    res.json({ route: 'items', params: req.params });
  });
  server.get('/b/:name', (req, res) => {
    res.json({ route: 'b', params: req.params });
  });
  return server;
}

it('compiles each route pattern once, not on every request, and still resolves routes', async () => {
  const compile = jest.spyOn(pathToRegexpModule, 'pathToRegexp');
  try {
    const server = app();
    const first = await request(server).get('/items/team-cv/shoe').expect(200);
    expect(first.body).toEqual({
      route: 'items',
      params: { namespace: 'team-cv', name: 'shoe' },
    });
    const afterFirst = compile.mock.calls.length;
    expect(afterFirst).toBeGreaterThan(0);

    for (let i = 0; i < 5; i++) {
      const again = await request(server)
        .get(`/items/ns-${i}/model%20${i}`)
        .expect(200);
      expect(again.body.params).toEqual({
        namespace: `ns-${i}`,
        name: `model ${i}`,
      });
    }
    const other = await request(server).get('/b/x').expect(200);
    expect(other.body).toEqual({ route: 'b', params: { name: 'x' } });
    await request(server).get('/unknown').expect(404);
    // the routes scanned before were compiled then: nothing compiled again
    expect(compile.mock.calls.length).toBe(afterFirst);
  } finally {
    compile.mockRestore();
  }
});
