const mods = ["fastify","@connectrpc/connect","@connectrpc/connect-node","ioredis","pg","pino","prom-client","yaml","@maestro/proto"];
for (const m of mods) { try { await import(m); } catch (e) { console.error(m, e.message) } }
await new Promise(r=>setTimeout(r,3000));
const m = process.memoryUsage();
const st = (await import("node:fs")).readFileSync("/proc/self/status","utf8").match(/VmRSS:\s+(\d+)/)[1];
console.log(JSON.stringify({rss: Math.round(st/1024), heapUsed: Math.round(m.heapUsed/2**20), heapTotal: Math.round(m.heapTotal/2**20), ext: Math.round(m.external/2**20)}));
