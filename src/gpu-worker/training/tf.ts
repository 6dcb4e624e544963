import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

/**
 * @tensorflow/tfjs-core on its pure-JavaScript CPU backend: automatic
 * differentiation with nothing downloaded at install and bit-for-bit the same
 * results on every machine (docs/training.md).
 */
let ready: Promise<void> | undefined;

/** Selects the CPU backend once per process; every trainer entry point awaits it. */
export function tfReady(): Promise<void> {
  ready ??= tf.setBackend('cpu').then((ok) => {
    if (!ok) throw new Error('tfjs CPU backend unavailable');
  });
  return ready;
}

export { tf };
