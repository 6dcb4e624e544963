/**
 * `npm run bench [name…]`: each benchmark runs ours and its baseline side by
 * side in one process and prints the ratio. Absolute times on a shared 2-core
 * machine are noise; the ratios are the result.
 */
import 'reflect-metadata';
import { queryBench } from './query.bench';
import { workerBench } from './worker.bench';
import { fanoutBench } from './fanout.bench';
import { admissionBench } from './admission.bench';
import { stallsBench } from './stalls.bench';
import { remoteThroughputBench, throughputBench } from './throughput.bench';
import { videoBench } from './video.bench';
import { backendBench } from './backend.bench';
import { trainingBench } from './training.bench';
import { httpLayersBench } from './http-layers.bench';
import { pngBench } from './png.bench';

const BENCHES: Record<string, () => Promise<void>> = {
  worker: workerBench,
  fanout: fanoutBench,
  admission: admissionBench,
  query: queryBench,
  stalls: stallsBench,
  throughput: throughputBench,
  'throughput-comfyui': remoteThroughputBench,
  video: videoBench,
  backend: backendBench,
  training: trainingBench,
  'http-layers': httpLayersBench,
  png: pngBench,
};

async function main(): Promise<void> {
  const names = process.argv.slice(2);
  for (const name of names.length ? names : Object.keys(BENCHES)) {
    const bench = BENCHES[name];
    if (!bench) throw new Error(`unknown bench ${name}; have ${Object.keys(BENCHES).join(', ')}`);
    await bench();
  }
}

main().then(() => process.exit(0), (error) => {
  console.error(error);
  process.exit(1);
});
