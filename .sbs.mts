import { startEmbeddedPostgres } from './src/db/embedded.ts';
const db = await startEmbeddedPostgres({ dataDir: '.data/bench', database: 'reelmeta_bench', port: 15999, settings: ['shared_buffers=4GB'] });
console.log('URL', db.url);
process.on('SIGTERM', async () => { await db.stop(); process.exit(0); });
setInterval(() => {}, 1e9);
