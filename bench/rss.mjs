// Memory growth of a training loop: RSS after a warm-up of the MLP workload (bench/workloads.mjs) and after
// 1,000 further steps in one synchronous loop. The warm-up is 300 steps because V8 grows its young generation
// over the first couple of hundred (about 10 MB here); after that RSS is flat unless something leaks. Run by bench/run.mjs in its own process; prints one JSON line.
import { mlpStep } from "./workloads.mjs";

const step = mlpStep(0.5);
for (let i = 0; i < 300; i++) step();
const before = process.memoryUsage().rss;
for (let i = 0; i < 1000; i++) step();
const after = process.memoryUsage().rss;
console.log(JSON.stringify({ rss_warm_mb: +(before / 2 ** 20).toFixed(1), rss_after_1000_mb: +(after / 2 ** 20).toFixed(1), rss_growth_pct: +((after / before - 1) * 100).toFixed(1) }));
