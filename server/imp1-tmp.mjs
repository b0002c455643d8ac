const m = process.argv[2];
if (m) await import(m);
await new Promise(r=>setTimeout(r,1500));
const st = (await import("node:fs")).readFileSync("/proc/self/status","utf8").match(/VmRSS:\s+(\d+)/)[1];
const u = process.memoryUsage();
console.log(m, Math.round(st/1024), Math.round(u.heapUsed/2**20), Math.round(u.heapTotal/2**20));
