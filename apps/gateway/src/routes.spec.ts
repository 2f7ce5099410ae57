import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';

import { ACCESS_KEY } from './auth/auth.decorators';
import { OPENAPI_PATH, previewGatewayApp, renderOpenApi } from './openapi';

describe('gateway routes', () => {
  it('every route declares who may call it (@Public or @Auth)', async () => {
    const app = await previewGatewayApp();
    const undeclared: string[] = [];
    let routes = 0;
    for (const module of app.get(ModulesContainer).values()) {
      for (const wrapper of module.controllers.values()) {
        const type = wrapper.metatype as (new () => object) | null;
        if (!type) {
          continue;
        }
        const proto = type.prototype as Record<string, unknown>;
        for (const name of Object.getOwnPropertyNames(proto)) {
          const handler = proto[name];
          if (
            name === 'constructor' ||
            typeof handler !== 'function' ||
            Reflect.getMetadata(METHOD_METADATA, handler) === undefined
          ) {
            continue;
          }
          routes++;
          const access: unknown = Reflect.getMetadata(ACCESS_KEY, handler) ?? Reflect.getMetadata(ACCESS_KEY, type);
          if (!access) {
            undeclared.push(`${type.name}.${name} (${String(Reflect.getMetadata(PATH_METADATA, handler))})`);
          }
        }
      }
    }
    await app.close();
    assert.ok(routes >= 10, `found ${routes} routes`);
    assert.deepEqual(undeclared, [], 'routes without @Public or @Auth');
  });

  it('docs/openapi.json matches the code (run `npm run openapi` after changing a route)', async () => {
    const generated = await renderOpenApi();
    const committed = readFileSync(OPENAPI_PATH, 'utf8');
    assert.equal(committed, generated);
    const paths = Object.keys((JSON.parse(generated) as { paths: object }).paths).sort();
    for (const path of [
      '/api/machines',
      '/api/machines/{id}',
      '/api/machines/join',
      '/api/join-tokens',
      '/api/messages',
      '/health',
      '/ready',
    ]) {
      assert.ok(paths.includes(path), `${path} documented`);
    }
  });
});
