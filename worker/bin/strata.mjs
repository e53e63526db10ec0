#!/usr/bin/env node
// The `strata` CLI (package bin). Strata is TypeScript run by tsx; this shim registers its loader.
import { register } from 'tsx/esm/api';

register();
await import('../cli.ts');
