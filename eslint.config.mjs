import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/*
 * Layer boundaries (docs/architecture.md, "Layers"): each folder of src/
 * imports only from its own layer or below. A relative import whose first
 * folder is in `above` fails the lint, naming the rule.
 */
/** The composition root, the operator roles and the `atelier` CLI: they may import everything below. */
const TOP = ['app', 'main', 'roles', 'cli'];
const TRANSPORTS = ['server', 'mcp', ...TOP];
const GRAPHQL = ['resolvers', 'schema', ...TRANSPORTS];
const LIVE = ['subscriptions', ...GRAPHQL];
const DOMAIN = ['services', ...LIVE];
const ADAPTERS = ['observability', 'storage', 'redis', 'database'];
/** The queue consumer's own files (gpu-worker/*.ts, not its library folders) sit at the top with the transports. */
const WORKER_DRIVER = String.raw`gpu-worker/[a-z-]+$`;

function layer(files, above, why, extra = []) {
  const folders = above.join('|');
  const upward = above.length ? [{ regex: String.raw`^(\.\./)+(${folders})(/|$)`, message: `Layer boundary: ${why} (docs/architecture.md, "Layers").` }] : [];
  return {
    files,
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          ...upward,
          { regex: String.raw`^(\.\./)+scripts/`, message: 'Runtime code does not import scripts/ (docs/architecture.md, "Layers").' },
          ...extra.map((regex) => ({ regex, message: `Layer boundary: ${why} (docs/architecture.md, "Layers").` })),
        ],
      }],
    },
  };
}

const boundaries = [
  layer(['src/kernel/**/*.ts'], ['config', 'entities', 'gpu-worker', ...ADAPTERS, ...DOMAIN], 'the kernel imports nothing of ours'),
  layer(['src/entities/**/*.ts', 'src/config.ts'], ['gpu-worker', ...ADAPTERS, ...DOMAIN], 'entities and config import only the kernel'),
  layer(['src/gpu-worker/{pipeline,lora,onnx,models,training}/**/*.ts'], ['config', 'entities', ...ADAPTERS, ...DOMAIN], 'the inference libraries are pure: kernel and each other only',
    [String.raw`^(\.\./)+(generation-worker|queue|step-reporter|outage-gate|worker-observability)$`]),
  layer(ADAPTERS.map((folder) => `src/${folder}/**/*.ts`), ['gpu-worker', ...DOMAIN], 'adapters sit below the domain'),
  // The inference backends (ONNX, ComfyUI, OpenAI Images): adapters of the worker, over the libraries, kernel, model and adapters.
  layer(['src/gpu-worker/backends/**/*.ts'], DOMAIN, 'inference backends are adapters: no domain, live streams, GraphQL or transports',
    [String.raw`^(\.\./)+(generation-worker|queue|step-reporter|outage-gate|worker-observability)$`]),
  layer(['src/services/**/*.ts'], LIVE, 'the domain publishes through kernel interfaces, never up into live streams, GraphQL or transports', [String.raw`^(\.\./)+${WORKER_DRIVER}`]),
  layer(['src/subscriptions/**/*.ts'], GRAPHQL, 'live streams sit below GraphQL and the transports', [String.raw`^(\.\./)+${WORKER_DRIVER}`]),
  layer(['src/resolvers/**/*.ts'], ['schema', ...TRANSPORTS], 'resolvers sit below the schema assembly and the transports', [String.raw`^(\.\./)+${WORKER_DRIVER}`]),
  layer(['src/schema/**/*.ts'], TRANSPORTS, 'the schema sits below the transports', [String.raw`^(\.\./)+${WORKER_DRIVER}`]),
  layer(['src/server/**/*.ts'], ['mcp', ...TOP], 'transports do not import the composition root', [String.raw`^(\.\./)+${WORKER_DRIVER}`]),
  layer(['src/mcp/**/*.ts'], ['server', ...TOP], 'the MCP server is a client of the public API: no other transport, no composition root', [String.raw`^(\.\./)+${WORKER_DRIVER}`]),
  layer(['src/gpu-worker/*.ts'], ['resolvers', 'schema', ...TRANSPORTS], 'the worker does not reach into the API'),
  // The CLI is a transport and a role: it may import everything below (it talks to a server over GraphQL, and starts roles through roles.ts).
  layer(['src/cli/**/*.ts'], [], 'the CLI sits at the top'),
];

export default tseslint.config(
  { ignores: ['dist/**', 'sdk/dist/**', 'node_modules/**', 'data/**', 'client/**', 'coverage/**', '.test-data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { files: ['test/**/*.ts', 'bench/**/*.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  { files: ['**/*.cjs', '**/*.mjs'], languageOptions: { globals: globals.node, sourceType: 'commonjs' } },
  ...boundaries,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-unsafe-function-type': 'off',
      '@typescript-eslint/no-require-imports': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
);
