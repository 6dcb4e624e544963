import { readFileSync } from 'node:fs';
import Module from 'node:module';

/**
 * @tensorflow/tfjs-core publishes its gradient registrations
 * (`dist/register_all_gradients`) only as ES modules with extensionless
 * relative imports, which Node's own loaders cannot resolve (bundlers and
 * vitest can). In a plain Node thread this compiles those files to CommonJS
 * as they are required, so the gradients register into tfjs's global
 * registry like under vitest. Needs the `typescript` package (a dev
 * dependency: present in a normal install).
 */
export function loadTfjsEsmAsCommonJs(): void {
  const ts = require('typescript') as typeof import('typescript');
  const extensions = (Module as unknown as { _extensions: Record<string, (module: unknown, file: string) => void> })._extensions;
  const original = extensions['.js'];
  const esmFile = /[\\/]@tensorflow[\\/]tfjs-core[\\/]dist[\\/](?!tf-core\.)/;
  extensions['.js'] = (module, file) => {
    if (!esmFile.test(file)) return original(module, file);
    const output = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020, esModuleInterop: true }, fileName: file,
    }).outputText;
    (module as { _compile(code: string, file: string): void })._compile(output, file);
  };
}
