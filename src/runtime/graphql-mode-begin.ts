/**
 * First half of {@link ./graphql-mode.ts}: remembers `NODE_ENV` and sets it to `production` just
 * before graphql-js is evaluated. Imported by that module only.
 */
export const savedNodeEnv = process.env['NODE_ENV'];
process.env['NODE_ENV'] = 'production';
