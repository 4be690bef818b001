// `/docs`: a human API reference (Swagger UI) rendered from /openapi.json. The UI's files are
// served from the swagger-ui-dist package, so the page works without reaching a CDN.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Hono } from 'hono';
import type { Route } from './route.ts';

const ASSETS = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
} as const;

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Reelmeta API reference</title>
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script>window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true });</script>
</body>
</html>
`;

/** GET /docs, the page; its files are docsAssets(). */
export const docsRoute: Route = {
  method: 'get',
  path: '/docs',
  operationId: 'docs',
  summary: 'Human API reference (Swagger UI)',
  tags: ['ops'],
  responses: { 200: { description: 'HTML page', content: { 'text/html': { schema: { type: 'string' } } } } },
  handler: () => (c) => c.html(PAGE),
};

/** The page's files, read once each (not API routes, so not documented). */
export function docsAssets(): Hono {
  const dir = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const cache = new Map<string, Buffer>();
  const app = new Hono();
  for (const [file, type] of Object.entries(ASSETS)) {
    app.get(`/docs/${file}`, (c) => {
      let content = cache.get(file);
      if (!content) {
        content = readFileSync(path.join(dir, file));
        cache.set(file, content);
      }
      c.header('Content-Type', type);
      c.header('Cache-Control', 'public, max-age=86400');
      return c.body(new Uint8Array(content));
    });
  }
  return app;
}
