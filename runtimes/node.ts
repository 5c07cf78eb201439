#!/usr/bin/env node
/** Node adapter: `node dist/runtimes/node.js <command>` (the `ridgeline` bin). */
import { runCli } from './cli.ts';
import { createHost } from './host.ts';
import { nodeGpu } from './webgpu_host.ts';

const interactive = Boolean(process.stderr.isTTY) && !process.env.CI;
process.exitCode = await runCli(process.argv.slice(2), createHost(`node ${process.versions.node}`, interactive, nodeGpu));
