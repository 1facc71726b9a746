import { GraphQLError, type GraphQLResolveInfo } from 'graphql';
import type { RequestScope } from '../contacts/loaders.js';
import { type RawContactInput, readArgumentError } from '../contacts/validation.js';
import type { GraphQLContext } from '../context.js';
import { PROVIDERS } from '../providers/registry.js';
import { builder } from './builder.js';
import { ContactRef } from './contact-type.js';
import { ConsentStatusEnum, EmailFormatEnum, OptInTypeEnum, ProviderEnum } from './enums.js';
import { providerNotes } from './notes.js';
import { ContactBatchPayloadRef, ContactWritePayloadRef } from './outcome.js';

const AddressInput = builder.inputType('AddressInput', {
  description: 'A postal address. Omitted fields are untouched; null clears.',
  fields: (t) => ({
    line1: t.string({ description: 'First address line.' }),
    line2: t.string({ description: 'Second address line.' }),
    city: t.string({ description: 'City or town.' }),
    state: t.string({ description: 'State, province or region.' }),
    postalCode: t.string({ description: 'Postal or ZIP code.' }),
    county: t.string({ description: 'County.' }),
    country: t.string({
      description: 'ISO 3166-1 alpha-2 country code, e.g. US (case-insensitive).',
    }),
  }),
});

const ConsentInput = builder.inputType('ConsentInput', {
  description: 'Consent for one channel. Omitted fields are untouched; null clears.',
  fields: (t) => ({
    status: t.field({ type: ConsentStatusEnum, description: 'Subscription state.' }),
    optInType: t.field({ type: OptInTypeEnum, description: 'How consent was obtained.' }),
    verified: t.boolean({ description: 'Whether the address or number was verified.' }),
    authorized: t.boolean({
      description: 'Whether the contact authorised messages on this channel.',
    }),
  }),
});

const PROVIDER_OPTION_INPUTS = PROVIDERS.map((p) => ({
  key: p.key,
  type: p.providerOptions.input(builder),
  description: p.providerOptions.description,
}));

/** One field per provider (its key), each provider's input built by its descriptor. */
const ProviderOptionsInput = builder.inputType('ProviderOptionsInput', {
  description: 'Per-provider extras that have no place in the unified model.',
  fields: (t) =>
    Object.fromEntries(
      PROVIDER_OPTION_INPUTS.map(({ key, type, description }) => [
        key,
        t.field({ type, description }),
      ]),
    ),
});

export const ContactInput = builder.inputType('ContactInput', {
  description:
    'A contact write. Omitted fields are untouched at every provider; a field sent as null is cleared where the provider can clear it (and listed in droppedFields where it cannot). Values are validated before any provider is called.',
  fields: (t) => ({
    externalId: t.string({ description: 'Your system’s id for the contact (first identity key).' }),
    email: t.string({
      description: 'Email address (second identity key); trimmed and lower-cased.',
    }),
    phone: t.string({
      description: 'Mobile phone in E.164, e.g. +14155550123 (third identity key).',
    }),
    homePhone: t.string({ description: 'Home phone in E.164.' }),
    workPhone: t.string({ description: 'Work phone in E.164.' }),
    firstName: t.string({ description: 'Given name.' }),
    lastName: t.string({ description: 'Family name.' }),
    namePrefix: t.string({ description: 'Title or prefix, e.g. Dr.' }),
    nameSuffix: t.string({ description: 'Suffix, e.g. Jr.' }),
    jobTitle: t.string({ description: 'Job title.' }),
    address: t.field({ type: AddressInput, description: 'Postal address; null clears all of it.' }),
    birthdate: t.string({ description: 'Date of birth, ISO 8601 YYYY-MM-DD.' }),
    timezone: t.string({
      description: 'IANA time zone name, e.g. Europe/Paris (UTC offsets are refused).',
    }),
    language: t.string({ description: 'BCP 47 language tag, e.g. en-US.' }),
    emailFormat: t.field({ type: EmailFormatEnum, description: 'Preferred email format.' }),
    emailConsent: t.field({ type: ConsentInput, description: 'Email consent.' }),
    smsConsent: t.field({ type: ConsentInput, description: 'SMS consent.' }),
    customFields: t.field({
      type: 'JSONObject',
      description: `Custom fields by key. Each provider maps the keys it knows${providerNotes('ContactInput.customFields')} and lists the rest in droppedFields. Bounded (InputError on this field, nothing sent): at most 5 levels deep, 100 keys in all, strings of 2048 characters, 16384 bytes of JSON (GATEWAY_MAX_JSON_DEPTH, _KEYS, _STRING_LENGTH, _BYTES).`,
    }),
    providerOptions: t.field({ type: ProviderOptionsInput, description: 'Per-provider extras.' }),
  }),
});

export const WriteOptions = builder.inputType('WriteOptions', {
  description: 'How a write is carried out.',
  fields: (t) => ({
    providers: t.field({
      type: [ProviderEnum],
      description:
        'Providers to write to. Default: every enabled provider (updateContact: every provider the contact lives in).',
    }),
    dryRun: t.boolean({
      description: 'Validate and map without sending; each outcome carries the exact wire request.',
    }),
    async: t.boolean({
      description:
        'upsertContacts only: answer at once with `batchId` and every item’s contact id (no outcomes yet); the batch is written in the background and followed with `batch(id)` (and the `batch.completed` webhook). Durable: a restart resumes it. Other mutations ignore it.',
    }),
    idempotencyKey: t.string({
      description:
        'Replays the first result for the same key and input, for 24 h (IDEMPOTENCY_TTL_MS). Keys are scoped by API key: another API key using the same idempotency key neither sees this result nor is refused.',
    }),
  }),
});

/**
 * Wraps a write in the idempotency guard: `options.idempotencyKey`, else the `Idempotency-Key`
 * header, scoped by the calling API key. The fingerprint is the field's arguments without the key.
 * A keyed write runs to its end even when the client goes away (its provider calls do not take the
 * request's abort signal): its answer is stored, and the client's retry with the same key (e.g. an
 * import CLI killed mid-chunk and rerun) replays it instead of finding a half-done write.
 */
function idempotently<T>(
  ctx: GraphQLContext,
  info: GraphQLResolveInfo,
  args: {
    options?:
      | { idempotencyKey?: string | null | undefined; dryRun?: boolean | null | undefined }
      | null
      | undefined;
  },
  run: (scope: RequestScope) => Promise<T>,
): Promise<T> {
  const key = args.options?.idempotencyKey ?? ctx.idempotencyHeader;
  if (args.options?.dryRun || !key) {
    return run(ctx.scope);
  }
  const { signal: _detached, ...scope } = ctx.scope;
  const { idempotencyKey: _key, ...options } = args.options ?? {};
  return ctx.idempotent(
    key,
    {
      owner: ctx.caller.keyName,
      operation: info.fieldName,
      path: String(info.path.key),
      args: { ...args, options },
    },
    () => run(scope),
  );
}

/**
 * Refuses a bad read argument (NUL, empty, too long, an invalid email) with BAD_USER_INPUT naming
 * it, before the store or any provider sees it.
 */
function checkReadArguments(
  args: ReadonlyArray<readonly [path: string, value: unknown, kind: 'email' | 'text']>,
): void {
  for (const [path, value, kind] of args) {
    if (value === null || value === undefined) {
      continue;
    }
    const error = readArgumentError(path, value, kind);
    if (error) {
      throw new GraphQLError(error.message, {
        extensions: { code: 'BAD_USER_INPUT', field: error.field },
      });
    }
  }
}

/** The write options a resolver passes on: the idempotency key may come from the header. */
function writeOptions<O extends { idempotencyKey?: string | null | undefined }>(
  args: { options?: O | null | undefined },
  ctx: GraphQLContext,
): O | { idempotencyKey: string | null } {
  const key = args.options?.idempotencyKey ?? ctx.idempotencyHeader;
  // Object.assign, not a spread and then a key: see `contactView` (a hidden class per object).
  return Object.assign({}, args.options, { idempotencyKey: key ?? null });
}

builder.queryType({ description: 'Reads. Contact reads need the API key scope `contacts:read`.' });
builder.mutationType({
  description:
    'Writes; each needs the API key scope `contacts:write`. Top-level mutation fields run one after another (GraphQL spec), so batching comes from upsertContacts, not from aliased mutations.',
});

const READ = { 'contacts:read': true } as const;
const WRITE = { 'contacts:write': true } as const;

builder.queryFields((t) => ({
  contact: t.field({
    type: ContactRef,
    nullable: true,
    description:
      'One contact by gateway id, email or externalId (give one), read from every enabled provider and merged. Null when nobody knows it. Arguments are checked like write inputs (no NUL, not empty, at most 255 characters, a valid email): BAD_USER_INPUT naming the argument. Needs scope `contacts:read`.',
    authScopes: READ,
    args: {
      id: t.arg.id({ description: 'Gateway id.' }),
      email: t.arg.string({ description: 'Email address.' }),
      externalId: t.arg.string({ description: 'Your system’s id.' }),
    },
    resolve: (_root, args, ctx) => {
      const given = [args.id, args.email, args.externalId].filter((v) => v != null);
      if (given.length !== 1) {
        throw new GraphQLError('Give exactly one of id, email or externalId.', {
          extensions: { code: 'BAD_USER_INPUT' },
        });
      }
      checkReadArguments([
        ['id', args.id, 'text'],
        ['email', args.email, 'email'],
        ['externalId', args.externalId, 'text'],
      ]);
      return ctx.service.getContact(
        {
          id: args.id?.toString() ?? null,
          email: args.email ?? null,
          externalId: args.externalId ?? null,
        },
        ctx.scope,
      );
    },
  }),
  contacts: t.field({
    type: [ContactRef],
    nullable: { list: false, items: true },
    description:
      'Several contacts: `ids` first, then `emails`, in the order given; null where nobody knows one. Reads are batched per provider. At most MAX_BATCH_INPUTS ids and emails over the whole operation (TOO_MANY_ITEMS), and at most GATEWAY_MAX_UPSTREAM_CALLS provider calls (TOO_MANY_UPSTREAM_CALLS, refused before any call when the keys × providers already exceed it). Needs scope `contacts:read`.',
    authScopes: READ,
    args: {
      ids: t.arg.idList({ description: 'Gateway ids.' }),
      emails: t.arg.stringList({ description: 'Email addresses.' }),
    },
    resolve: (_root, args, ctx) => {
      checkReadArguments([
        ...(args.ids ?? []).map((id, i) => [`ids.${i}`, id, 'text'] as const),
        ...(args.emails ?? []).map((e, i) => [`emails.${i}`, e, 'email'] as const),
      ]);
      return ctx.service.getContacts(
        { ids: args.ids?.map(String) ?? null, emails: args.emails ?? null },
        ctx.scope,
      );
    },
  }),
}));

builder.mutationFields((t) => ({
  upsertContact: t.field({
    type: ContactWritePayloadRef,
    description:
      'Create or update one contact at every targeted provider. Matched by externalId, then email, then phone. Needs scope `contacts:write`.',
    authScopes: WRITE,
    args: {
      input: t.arg({ type: ContactInput, required: true, description: 'The contact.' }),
      options: t.arg({ type: WriteOptions, description: 'Providers, dry run, idempotency.' }),
    },
    resolve: (_root, args, ctx, info) =>
      idempotently(ctx, info, args, (scope) =>
        ctx.service.upsertContact(args.input as RawContactInput, writeOptions(args, ctx), scope),
      ),
  }),
  upsertContacts: t.field({
    type: ContactBatchPayloadRef,
    description: `Create or update many contacts, mapped onto each provider's bulk endpoint in batches of its maximum. A bad item fails alone. At most MAX_BATCH_INPUTS inputs over the whole operation, aliased fields added up (refused before anything runs: TOO_MANY_ITEMS), and at most GATEWAY_MAX_UPSTREAM_CALLS provider calls (TOO_MANY_UPSTREAM_CALLS; refused before any call when inputs ÷ each provider's batch size already exceed it${providerNotes('Mutation.upsertContacts', { open: ' — ', close: '' })}). Needs scope \`contacts:write\`.`,
    authScopes: WRITE,
    args: {
      inputs: t.arg({ type: [ContactInput], required: true, description: 'The contacts.' }),
      options: t.arg({ type: WriteOptions, description: 'Providers, dry run, idempotency.' }),
    },
    // MAX_BATCH_INPUTS is enforced before execution (src/http-server/limits.ts).
    resolve: (_root, args, ctx, info) =>
      idempotently(ctx, info, args, (scope) =>
        args.options?.async && !args.options.dryRun && ctx.lifecycle.batches
          ? ctx.lifecycle.batches.accept(args.inputs as RawContactInput[], writeOptions(args, ctx))
          : ctx.service.upsertContacts(
              args.inputs as RawContactInput[],
              writeOptions(args, ctx),
              scope,
            ),
      ),
  }),
  updateContact: t.field({
    type: ContactWritePayloadRef,
    description:
      'Patch a contact the gateway knows, at every provider it lives in (by their remote ids). Omitted fields are untouched; null clears. Needs scope `contacts:write`.',
    authScopes: WRITE,
    args: {
      id: t.arg.id({ required: true, description: 'Gateway id.' }),
      patch: t.arg({ type: ContactInput, required: true, description: 'The changes.' }),
      options: t.arg({ type: WriteOptions, description: 'Providers, dry run, idempotency.' }),
    },
    resolve: (_root, args, ctx, info) =>
      idempotently(ctx, info, args, (scope) =>
        ctx.service.updateContact(
          String(args.id),
          args.patch as RawContactInput,
          writeOptions(args, ctx),
          scope,
        ),
      ),
  }),
}));
