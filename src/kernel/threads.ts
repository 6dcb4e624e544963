import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * Starts the worker thread whose entry is `<dir>/<name>.js`. Under vitest,
 * where only the TypeScript sources exist, the thread compiles each `.ts` file
 * it requires first (module Node16, as tsconfig.json: CommonJS output that
 * keeps dynamic `import()` real, which the trainer's tfjs loading needs).
 */
export function startThread(dir: string, name: string, workerData: unknown): Worker {
  const compiled = path.join(dir, `${name}.js`);
  if (existsSync(compiled)) return new Worker(compiled, { workerData });
  const typescript = require.resolve('typescript', { paths: [dir] });
  const source = `
    const ts = require(${JSON.stringify(typescript)});
    const fs = require('node:fs');
    const options = { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16, target: ts.ScriptTarget.ES2022, esModuleInterop: true };
    require.extensions['.ts'] = (module, file) => module._compile(ts.transpileModule(fs.readFileSync(file, 'utf8'), { compilerOptions: options, fileName: file }).outputText, file);
    require(${JSON.stringify(path.join(dir, `${name}.ts`))});`;
  return new Worker(source, { eval: true, workerData });
}

/**
 * What `accept` makes of a new thread's first message (its "loaded" or
 * "ready"). An error the thread raises before it, or an Error that `accept`
 * returns, rejects and ends the thread.
 */
export function firstMessage<M, T>(thread: Worker, accept: (message: M) => T | Error): Promise<T> {
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => {
      void thread.terminate();
      reject(error);
    };
    thread.once('error', fail);
    thread.once('message', (message: M) => {
      thread.off('error', fail);
      const accepted = accept(message);
      if (accepted instanceof Error) fail(accepted);
      else resolve(accepted);
    });
  });
}
