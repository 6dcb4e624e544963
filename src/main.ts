#!/usr/bin/env node
import 'reflect-metadata';
import { ConfigError } from './config';
import { runOperatorCommand } from './roles';

// `node dist/src/main.js <role>` (the Dockerfile's entry point); the `atelier`
// CLI (src/cli/main.ts) runs the same commands.
runOperatorCommand(process.argv[2] ?? 'all').catch((error) => {
  if (error instanceof ConfigError) {
    console.error(`atelier: ${error.message}`);
    process.exit(2);
  }
  console.error(error);
  process.exit(1);
});
