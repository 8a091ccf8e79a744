// The floor for "cost of the HTTP stack": a bare Fastify route on the same Node, no
// logger, no hooks. bench/cpu.ts measures the service's CPU per request against it.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/liveness', async () => ({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port: Number(process.argv[2] ?? 0) });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
