// GraphQL Code Generator configuration for a client of contact-gateway (see docs/codegen.md).
// `npx graphql-codegen --config docs/codegen.ts` from the repository root.
import type { CodegenConfig } from '@graphql-codegen/cli';

/** How each custom scalar of the schema travels (input) and is read back (output). */
export const SCALARS = {
  Date: { input: 'string', output: 'string' },
  DateTime: { input: 'string', output: 'string' },
  JSONObject: { input: 'Record<string, unknown>', output: 'Record<string, unknown>' },
};

const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  documents: ['operations/**/*.graphql'],
  generates: {
    'generated/graphql.ts': {
      plugins: ['typescript', 'typescript-operations'],
      config: { scalars: SCALARS, strictScalars: true, enumsAsTypes: true },
    },
  },
};

export default config;
