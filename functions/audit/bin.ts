#!/usr/bin/env node
/**
 * The `ecs-caretaker` command: `ecs-caretaker audit ...`. All logic is in
 * cli.ts; this only connects it to the process.
 */
import { main } from './cli.ts';

process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
