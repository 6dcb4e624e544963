import { register } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

/**
 * @tensorflow/tfjs-core on its pure-JavaScript CPU backend: automatic
 * differentiation with nothing downloaded at install and bit-for-bit the same
 * results on every machine (docs/training.md).
 *
 * tfjs-core's CommonJS bundle leaves the gradient functions out; they ship
 * only as ES modules whose relative imports have no file extension, which
 * Node's loader refuses. A resolve hook that retries such an import with
 * `.js`, limited to @tensorflow's own files, lets Node load them; they
 * register into tfjs's process-wide registry, which the CommonJS copy reads.
 */
const RETRY_WITH_JS = `
const MISSING = new Set(['ERR_MODULE_NOT_FOUND', 'ERR_UNSUPPORTED_DIR_IMPORT']);
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (error) {
    const ours = /^\\.{1,2}\\//.test(specifier) && !specifier.endsWith('.js') && String(context.parentURL).includes('/@tensorflow/');
    if (!ours || !error || !MISSING.has(error.code)) throw error;
    try {
      return await next(specifier + '.js', context);
    } catch {
      return next(specifier + '/index.js', context);
    }
  }
}`;

async function registerGradients(): Promise<void> {
  if (tf.getGradient('Abs')) return;
  register(`data:text/javascript,${encodeURIComponent(RETRY_WITH_JS)}`);
  await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  if (!tf.getGradient('Abs')) throw new Error('tfjs gradients did not register');
}

let ready: Promise<void> | undefined;

/** Selects the CPU backend and registers the gradients, once per process; every trainer entry point awaits it. */
export function tfReady(): Promise<void> {
  // PROD drops tfjs's debug checks and its "install tfjs-node" banner (we choose the pure-JS backend on purpose).
  tf.env().set('PROD', true);
  ready ??= (async () => {
    await registerGradients();
    if (!(await tf.setBackend('cpu'))) throw new Error('tfjs CPU backend unavailable');
  })();
  return ready;
}

export { tf };
