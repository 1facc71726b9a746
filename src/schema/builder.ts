import SchemaBuilder from '@pothos/core';
import { DateResolver, DateTimeResolver, JSONObjectResolver } from 'graphql-scalars';
import type { JsonObject } from '../contacts/model.js';
import type { GraphQLContext } from '../context.js';

export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  DefaultFieldNullability: false;
  Scalars: {
    Date: { Input: string; Output: string };
    DateTime: { Input: Date; Output: Date | string };
    JSONObject: { Input: JsonObject; Output: JsonObject };
  };
}>({
  defaultFieldNullability: false,
});

builder.addScalarType('Date', DateResolver);
builder.addScalarType('DateTime', DateTimeResolver);
builder.addScalarType('JSONObject', JSONObjectResolver);
