import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { schema } from '../src/schema/index.js';

/** The committed SDL: sorted, trailing newline. `test/schema.test.ts` fails when it is stale. */
export function printSdl(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}

const target = fileURLToPath(new URL('../schema/schema.graphql', import.meta.url));
writeFileSync(target, printSdl());
console.log(`wrote ${target}`);
